#pragma once
// The ConductorOne client id and client secret (spec c1-service-mode.md 3.1, 3.2): parsing and
// checking only. Failure messages name the setting and never contain any part of the secret.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "baton_percipio/service/error.hpp"

namespace bp::service {

// "<name>@<host[:port]>/<suffix>".
struct client_id {
  std::string full;       // the whole id: OAuth client_id, JWT iss and sub
  std::string name;       // before '@': only for the gRPC user agent
  std::string host_port;  // between '@' and '/', as written
  std::string audience;   // host_port without the port (IPv6 without brackets): the JWT aud
  std::uint16_t port = 443;
};

// Splits once on the first '@', then the rest once on the first '/'; both must succeed and the
// name and host must be non-empty. A port, if given, is 1..65535.
result<client_id> parse_client_id(std::string_view id);

// Where requests go: "host" or "host:port" ("[v6]:port"); no port means 443.
struct endpoint {
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 443;
  std::string host_port() const;  // "host:port", IPv6 in brackets
};
// BATON_C1_API_HOST when non-empty (errc::invalid_api_host if malformed), else the id's host.
// The JWT audience stays the id's host either way.
result<endpoint> api_endpoint(const client_id& id, std::string_view api_host_override);

// The Ed25519 private key carried by the client secret. The key bytes are wiped when the object
// is destroyed or moved from.
class signing_key {
 public:
  using bytes32 = std::array<unsigned char, 32>;
  signing_key(const bytes32& seed, const bytes32& public_key, std::string kid);
  ~signing_key();
  signing_key(signing_key&& other) noexcept;
  signing_key& operator=(signing_key&& other) noexcept;
  signing_key(const signing_key&) = delete;
  signing_key& operator=(const signing_key&) = delete;

  const bytes32& seed() const noexcept { return seed_; }          // the JWK "d"
  const bytes32& public_key() const noexcept { return public_; }  // the JWK "x"
  const std::string& kid() const noexcept { return kid_; }        // empty when the JWK had none

 private:
  bytes32 seed_{};
  bytes32 public_{};
  std::string kid_;
};

// "secret-token:conductorone.com:v1:<base64url without padding of a JWK>": split with a limit of
// four fields, the third must be "v1"; the JWK must have kty "OKP", crv "Ed25519", a 32-byte "x" and
// a 32-byte "d" whose public key is "x"; "kid" is optional. Pure: registers nothing.
result<signing_key> parse_client_secret(std::string_view secret);

struct credentials {
  client_id id;
  signing_key key;
};
// Parses both settings and registers the secret with bp::log::add_secret (also when it is
// malformed, so no later line can show it).
result<credentials> load_credentials(std::string_view id, std::string_view secret);

}  // namespace bp::service
