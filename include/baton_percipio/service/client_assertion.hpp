#pragma once
// The OAuth client assertion (spec c1-service-mode.md 4.2): a compact JWS signed with the client
// secret's Ed25519 key, RFC 7523 private_key_jwt style.
#include <chrono>
#include <string>

#include "baton_percipio/service/credentials.hpp"

namespace bp::service {

// Header {"alg":"EdDSA","nonce":<32 lowercase hex of 16 random bytes>} plus "kid" when the key has
// one; payload {"iss","sub" = the full id, "aud" = the id's host without port (a string), "iat" = now,
// "nbf" = now - 120, "exp" = now + 120} in integer seconds. Throws std::runtime_error only when
// OpenSSL cannot produce randomness or a signature (a broken installation, not an input problem).
std::string make_client_assertion(const client_id& id, const signing_key& key,
                                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace bp::service
