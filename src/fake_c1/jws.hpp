#pragma once
// Verifies the client assertion of a token request (c1-service-mode.md 4.2): a compact JWS with
// alg EdDSA, signed by the client's Ed25519 key, carrying iss/sub/aud/iat/nbf/exp.
#include <cstdint>
#include <string>
#include <string_view>

namespace bp::fake_c1::detail {

struct assertion_claims {
  std::string iss;
  std::string sub;
  std::string aud;
  std::int64_t iat = 0;
  std::int64_t nbf = 0;
  std::int64_t exp = 0;
};

struct assertion_result {
  bool ok = false;
  std::string reason;  // why it was rejected (never contains the assertion itself)
  assertion_claims claims;
};

// Checks shape, header (alg EdDSA), signature with `public_key` (32 bytes) and that every claim is
// present with the right type (aud a single string, dates integers). Claim values are checked by
// the caller, which knows the client id and the time.
assertion_result verify_assertion(std::string_view jws, std::string_view public_key);

}  // namespace bp::fake_c1::detail
