// Client secret parsing (spec c1-service-mode.md 3.2): the four fields, the base64url JWK and the
// Ed25519 key it holds. Every buffer that held key material is wiped before it is released.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <cstring>
#include <memory>
#include <optional>

#include "baton_percipio/core/base64url.hpp"
#include "baton_percipio/service/credentials.hpp"

namespace bp::service {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view secret_setting = "--client-secret / BATON_CLIENT_SECRET";

failure bad_secret(std::string_view why) {
  return make_failure(errc::invalid_client_secret, std::string(secret_setting) + ": " + std::string(why));
}

// A heap buffer wiped on release; for decoded key material.
class wiped_buffer {
 public:
  explicit wiped_buffer(std::size_t n) : data_(std::make_unique<char[]>(n)), size_(n) { std::memset(data_.get(), 0, n); }
  ~wiped_buffer() { OPENSSL_cleanse(data_.get(), size_); }
  wiped_buffer(const wiped_buffer&) = delete;
  wiped_buffer& operator=(const wiped_buffer&) = delete;
  char* data() { return data_.get(); }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_;
};

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// A JSON string member read in place (no copy into the parser's string buffer), for the base64url
// key members. nullopt unless it is a string without escapes.
std::optional<std::string_view> raw_string(od::value v) {
  od::json_type t;
  if (v.type().get(t) != simdjson::SUCCESS || t != od::json_type::string) return std::nullopt;
  std::string_view tok = v.raw_json_token();  // the token and any whitespace after it
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t' || tok.back() == '\n' || tok.back() == '\r'))
    tok.remove_suffix(1);
  if (tok.size() < 2 || tok.front() != '"' || tok.back() != '"') return std::nullopt;
  tok = tok.substr(1, tok.size() - 2);
  if (tok.find('\\') != std::string_view::npos) return std::nullopt;
  return tok;
}

struct jwk_fields {
  std::string kty, crv, kid;
  std::string_view x, d;  // point into the (wiped) input buffer
  bool has_x = false, has_d = false;
  bool x_is_string = true, d_is_string = true;
};

// Fills f from the JWK object; false when the text is not a JSON object.
bool read_jwk(simdjson::padded_string_view json, jwk_fields& f) {
  od::parser parser;
  od::document doc;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS) return false;
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return false;
  for (auto member : obj) {
    od::field fld;
    if (std::move(member).get(fld) != simdjson::SUCCESS) return false;
    std::string_view key;
    if (fld.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    od::value v = fld.value();
    if (key == "x" || key == "d") {
      auto s = raw_string(v);
      bool& has = key == "x" ? f.has_x : f.has_d;
      bool& is_string = key == "x" ? f.x_is_string : f.d_is_string;
      has = true;
      is_string = s.has_value();
      if (s) (key == "x" ? f.x : f.d) = *s;
      continue;  // a value left unread is skipped by the iterator
    }
    std::string* target = key == "kty" ? &f.kty : key == "crv" ? &f.crv : key == "kid" ? &f.kid : nullptr;
    if (target != nullptr) {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return false;
      *target = std::string(s);
    }
    // Other members (use, alg, ...) are ignored, as JWK readers do.
  }
  // Nothing may follow the object (json.Unmarshal refuses trailing data too).
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

// Decodes a 32-byte base64url member into out; false otherwise. The decoded copy is wiped.
bool decode32(std::string_view text, signing_key::bytes32& out) {
  auto bytes = base64url_decode(text);
  if (!bytes) return false;
  bool ok = bytes->size() == out.size();
  if (ok) std::memcpy(out.data(), bytes->data(), out.size());
  wipe(*bytes);
  return ok;
}

// The Ed25519 public key of a seed; false if OpenSSL refuses it.
bool derive_public(const signing_key::bytes32& seed, signing_key::bytes32& out) {
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (pkey == nullptr) return false;
  std::size_t len = out.size();
  bool ok = EVP_PKEY_get_raw_public_key(pkey, out.data(), &len) == 1 && len == out.size();
  EVP_PKEY_free(pkey);
  return ok;
}

}  // namespace

signing_key::signing_key(const bytes32& seed, const bytes32& public_key, std::string kid)
    : seed_(seed), public_(public_key), kid_(std::move(kid)) {}

signing_key::~signing_key() { OPENSSL_cleanse(seed_.data(), seed_.size()); }

signing_key::signing_key(signing_key&& other) noexcept
    : seed_(other.seed_), public_(other.public_), kid_(std::move(other.kid_)) {
  OPENSSL_cleanse(other.seed_.data(), other.seed_.size());
}

signing_key& signing_key::operator=(signing_key&& other) noexcept {
  if (this != &other) {
    seed_ = other.seed_;
    public_ = other.public_;
    kid_ = std::move(other.kid_);
    OPENSSL_cleanse(other.seed_.data(), other.seed_.size());
  }
  return *this;
}

result<signing_key> parse_client_secret(std::string_view secret) {
  if (secret.empty()) return bad_secret("is empty");
  // strings.SplitN(secret, ":", 4): the fourth field keeps any further ':'.
  std::string_view fields[4];
  std::string_view rest = secret;
  for (int i = 0; i < 3; ++i) {
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
      return bad_secret("must have four ':'-separated fields (secret-token:conductorone.com:v1:<key>)");
    }
    fields[i] = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  fields[3] = rest;
  if (fields[2] != "v1") return bad_secret("has an unsupported version in its third field (expected v1)");

  auto json = base64url_decode(fields[3]);
  if (!json || json->empty()) return bad_secret("the key (fourth field) is not base64url without padding");
  const std::size_t json_size = json->size();
  wiped_buffer padded(json_size + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), json->data(), json_size);
  wipe(*json);

  jwk_fields f;
  if (!read_jwk(simdjson::padded_string_view(padded.data(), json_size, json_size + simdjson::SIMDJSON_PADDING), f)) {
    return bad_secret("the key (fourth field) is not a JSON Web Key object");
  }
  if (f.kty != "OKP") return bad_secret("the key is not an OKP key (kty must be \"OKP\")");
  if (f.crv != "Ed25519") return bad_secret("the key is not an Ed25519 key (crv must be \"Ed25519\")");
  if (!f.has_d) return bad_secret("the key has no private part (d)");
  if (!f.has_x) return bad_secret("the key has no public part (x)");

  signing_key::bytes32 seed{};
  signing_key::bytes32 x{};
  signing_key::bytes32 derived{};
  struct wipe_on_exit {
    signing_key::bytes32& a;
    signing_key::bytes32& b;
    ~wipe_on_exit() {
      OPENSSL_cleanse(a.data(), a.size());
      OPENSSL_cleanse(b.data(), b.size());
    }
  } guard{seed, derived};
  if (!f.d_is_string || !decode32(f.d, seed)) return bad_secret("the key's private part (d) is not 32 bytes of base64url");
  if (!f.x_is_string || !decode32(f.x, x)) return bad_secret("the key's public part (x) is not 32 bytes of base64url");
  if (!derive_public(seed, derived)) return bad_secret("the key's private part (d) is not a usable Ed25519 key");
  if (CRYPTO_memcmp(derived.data(), x.data(), x.size()) != 0) {
    return bad_secret("the key's public part (x) does not belong to its private part (d)");
  }
  return signing_key(seed, x, std::move(f.kid));
}

}  // namespace bp::service
