#include "baton_percipio/fake_c1/credentials.hpp"

#include "baton_percipio/core/base64url.hpp"
#include "crypto.hpp"

namespace bp::fake_c1 {

client_credentials make_client_credentials(std::string_view client_name, std::string_view api_host,
                                           std::string_view suffix) {
  auto key = detail::generate_ed25519();
  // The members the SDK's sample secret carries, no kid (so the JWS header has none either).
  std::string jwk = R"({"kty":"OKP","crv":"Ed25519","x":")" + bp::base64url_encode(key.public_key) +
                    R"(","d":")" + bp::base64url_encode(key.seed) + R"("})";
  client_credentials c;
  c.client_id = std::string(client_name) + "@" + std::string(api_host) + "/" + std::string(suffix);
  c.client_secret = "secret-token:conductorone.com:v1:" + bp::base64url_encode(jwk);
  c.public_key = std::move(key.public_key);
  c.private_seed = std::move(key.seed);
  return c;
}

std::optional<std::string> client_id_host(std::string_view client_id) {
  auto at = client_id.find('@');
  if (at == std::string_view::npos) return std::nullopt;
  auto rest = client_id.substr(at + 1);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return std::string(rest.substr(0, slash));
}

std::optional<std::string> client_id_audience(std::string_view client_id) {
  auto host = client_id_host(client_id);
  if (!host) return std::nullopt;
  std::string_view h = *host;
  if (!h.empty() && h.front() == '[') {  // [v6]:port
    auto close = h.find(']');
    if (close == std::string_view::npos) return std::string(h);
    return std::string(h.substr(1, close - 1));
  }
  auto colon = h.find(':');
  if (colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) {
    return std::string(h.substr(0, colon));
  }
  return std::string(h);
}

}  // namespace bp::fake_c1
