#pragma once
// base64url without padding (RFC 4648 section 5), as JWS segments and the client secret's JWK use it.
#include <optional>
#include <string>
#include <string_view>

namespace bp::fake_c1::detail {

std::string base64url_encode(std::string_view bytes);
// Rejects padding, characters outside the url-safe alphabet and impossible lengths (len % 4 == 1).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace bp::fake_c1::detail
