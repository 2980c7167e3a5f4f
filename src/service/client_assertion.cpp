#include "baton_percipio/service/client_assertion.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "baton_percipio/core/json_writer.hpp"
#include "baton_percipio/core/base64url.hpp"

namespace bp::service {
namespace {

std::string random_nonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed for the client assertion nonce");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 0xF];
  }
  return out;
}

std::string header_json(const signing_key& key) {
  std::string out;
  json::writer w(out);
  w.begin_object().key("alg").value("EdDSA");
  if (!key.kid().empty()) w.key("kid").value(key.kid());
  w.key("nonce").value(random_nonce());
  w.end_object();
  return out;
}

std::string payload_json(const client_id& id, std::int64_t now) {
  std::string out;
  json::writer w(out);
  w.begin_object();
  w.key("iss").value(id.full);
  w.key("sub").value(id.full);
  w.key("aud").value(id.audience);
  // The order of go-jose's jwt.Claims, so our assertions look like the Go SDK's.
  w.key("exp").value(now + 120);
  w.key("nbf").value(now - 120);
  w.key("iat").value(now);
  w.end_object();
  return out;
}

std::string sign(const signing_key& key, std::string_view input) {
  using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
  using md_ptr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
  // OpenSSL keeps its own copy of the seed and wipes it when the key is freed.
  pkey_ptr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.seed().data(), key.seed().size()),
                &EVP_PKEY_free);
  md_ptr ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!pkey || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    throw std::runtime_error("OpenSSL could not set up Ed25519 signing for the client assertion");
  }
  std::array<unsigned char, 64> sig{};
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1 ||
      len != sig.size()) {
    throw std::runtime_error("OpenSSL could not sign the client assertion");
  }
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), len));
}

}  // namespace

std::string make_client_assertion(const client_id& id, const signing_key& key,
                                  std::chrono::system_clock::time_point now) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string jws = base64url_encode(header_json(key));
  jws += '.';
  jws += base64url_encode(payload_json(id, static_cast<std::int64_t>(secs)));
  std::string signature = sign(key, jws);
  jws += '.';
  jws += signature;
  return jws;
}

}  // namespace bp::service
