#pragma once
// Fresh Ed25519 keys and client secrets for the service tests, plus a JWS verifier.
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "baton_percipio/core/base64url.hpp"

namespace bp::service::test {

struct test_key {
  std::string seed;    // 32 raw bytes (JWK "d")
  std::string public_key;  // 32 raw bytes (JWK "x")
};

inline test_key make_key() {
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1) {
    throw std::runtime_error("Ed25519 keygen failed");
  }
  EVP_PKEY_CTX_free(ctx);
  test_key k;
  k.seed.resize(32);
  k.public_key.resize(32);
  std::size_t n = 32;
  EVP_PKEY_get_raw_private_key(pkey, reinterpret_cast<unsigned char*>(k.seed.data()), &n);
  n = 32;
  EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(k.public_key.data()), &n);
  EVP_PKEY_free(pkey);
  return k;
}

// The JWK members the SDK's sample secret has (kty, crv, x, d), plus kid when given.
inline std::string jwk_json(const test_key& k, std::string_view kid = {}) {
  std::string j = R"({"kty":"OKP","crv":"Ed25519","x":")" + base64url_encode(k.public_key) + R"(","d":")" +
                  base64url_encode(k.seed) + "\"";
  if (!kid.empty()) j += R"(,"kid":")" + std::string(kid) + "\"";
  return j + "}";
}

inline std::string secret_from_json(std::string_view json) {
  return "secret-token:conductorone.com:v1:" + base64url_encode(json);
}

inline std::string make_secret(const test_key& k, std::string_view kid = {}) { return secret_from_json(jwk_json(k, kid)); }

// True when `jws` is "<b64 header>.<b64 payload>.<b64 signature>" with a valid Ed25519 signature.
inline bool verify_jws(std::string_view jws, const std::string& public_key) {
  auto last = jws.rfind('.');
  if (last == std::string_view::npos) return false;
  auto sig = base64url_decode(jws.substr(last + 1));
  if (!sig) return false;
  std::string_view input = jws.substr(0, last);
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(public_key.data()), public_key.size());
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = pkey != nullptr && md != nullptr && EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, pkey) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  return ok;
}

// The decoded header and payload JSON of a compact JWS.
struct jws_parts {
  std::string header;
  std::string payload;
  std::string signature;
};
inline jws_parts split_jws(std::string_view jws) {
  auto a = jws.find('.');
  auto b = jws.find('.', a + 1);
  jws_parts p;
  p.header = base64url_decode(jws.substr(0, a)).value_or("?");
  p.payload = base64url_decode(jws.substr(a + 1, b - a - 1)).value_or("?");
  p.signature = base64url_decode(jws.substr(b + 1)).value_or("?");
  return p;
}

}  // namespace bp::service::test
