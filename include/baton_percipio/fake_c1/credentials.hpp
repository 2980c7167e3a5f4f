#pragma once
// Client credentials in ConductorOne's format (c1-service-mode.md 3.1, 3.2). The fake owns the keys:
// it generates a pair, keeps the public key to verify token requests and hands the secret to clients.
#include <optional>
#include <string>
#include <string_view>

namespace bp::fake_c1 {

struct client_credentials {
  std::string client_id;      // "<client-name>@<api-host>/<suffix>"
  std::string client_secret;  // "secret-token:conductorone.com:v1:<base64url JWK {kty,crv,x,d}>"
  std::string public_key;     // 32 raw bytes (JWK x): what the token endpoint verifies with
  std::string private_seed;   // 32 raw bytes (JWK d): lets tests sign assertions without parsing
};

// A fresh Ed25519 key and a client id "<client_name>@<api_host>/<suffix>". `api_host` may carry a
// port ("127.0.0.1:8443"); the JWT audience is the host without it.
client_credentials make_client_credentials(std::string_view client_name, std::string_view api_host,
                                           std::string_view suffix = "fake-c1");

// "name@host:port/suffix" -> "host:port"; nullopt unless both the '@' and the '/' split succeed.
std::optional<std::string> client_id_host(std::string_view client_id);
// The JWT audience for a client id: its host part without a port ("[::1]:5" -> "::1").
std::optional<std::string> client_id_audience(std::string_view client_id);

}  // namespace bp::fake_c1
