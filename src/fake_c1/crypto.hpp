#pragma once
// The few OpenSSL primitives the fake needs: Ed25519 keys and verification, SHA-256, randomness.
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace bp::fake_c1::detail {

struct ed25519_key {
  std::string seed;        // 32 bytes: the private key as a JWK `d` carries it
  std::string public_key;  // 32 bytes: JWK `x`
};
ed25519_key generate_ed25519();
// True when `signature` (64 bytes) is a valid Ed25519 signature of `message` by `public_key` (32 bytes).
bool ed25519_verify(std::string_view public_key, std::string_view message, std::string_view signature);

// Incremental SHA-256 (uploads arrive in pieces).
class sha256 {
 public:
  sha256();
  void update(std::string_view data);
  std::string finish();  // 32 raw bytes; the object is spent afterwards
 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};
std::string sha256_of(std::string_view data);

std::string random_bytes(std::size_t n);
// `n` characters from [A-Za-z0-9], uniformly (task ids are 27 of them).
std::string random_alnum(std::size_t n);
std::string to_hex(std::string_view bytes);

}  // namespace bp::fake_c1::detail
