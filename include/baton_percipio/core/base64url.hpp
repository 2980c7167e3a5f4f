#pragma once
// base64url without padding (RFC 4648 section 5), the encoding of JWS segments and JWK members.
#include <optional>
#include <string>
#include <string_view>

namespace bp {

std::string base64url_encode(std::string_view bytes);
// nullopt for padding ('='), characters outside the URL-safe alphabet (including line breaks) or a
// length that no unpadded encoding has (4n+1). Trailing bits need not be zero.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace bp
