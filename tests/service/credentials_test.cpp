#include "baton_percipio/service/credentials.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "baton_percipio/core/log.hpp"
#include "service/test_keys.hpp"

using namespace bp::service;
using bp::base64url_decode;
using bp::base64url_encode;
namespace t = bp::service::test;

TEST_CASE("client id: name, host, audience and default port") {
  auto id = parse_client_id("happy-otter-12345@acme.conductor.one/pcc");
  REQUIRE(id);
  CHECK(id->full == "happy-otter-12345@acme.conductor.one/pcc");
  CHECK(id->name == "happy-otter-12345");
  CHECK(id->host_port == "acme.conductor.one");
  CHECK(id->audience == "acme.conductor.one");
  CHECK(id->port == 443);
}

TEST_CASE("client id: a port is used for connections and left out of the audience") {
  auto id = parse_client_id("c@localhost:8443/x");
  REQUIRE(id);
  CHECK(id->host_port == "localhost:8443");
  CHECK(id->audience == "localhost");
  CHECK(id->port == 8443);
  auto v6 = parse_client_id("c@[::1]:9443/x");
  REQUIRE(v6);
  CHECK(v6->audience == "::1");
  CHECK(v6->port == 9443);
}

TEST_CASE("client id: only the first '@' and the first '/' after it split") {
  auto id = parse_client_id("c@host.example/a/b@c");
  REQUIRE(id);
  CHECK(id->name == "c");
  CHECK(id->host_port == "host.example");
  // "b@c/d" is the rest after the first '@': its host part "b@c" is not a host.
  auto bad = parse_client_id("a@b@c/d");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::invalid_client_id);
  CHECK(parse_client_id("c@host/"));  // the suffix is not interpreted
}

TEST_CASE("client id: malformed ids name the setting and the rule") {
  struct bad_case {
    const char* id;
    const char* why;
  };
  for (auto [text, why] : std::vector<bad_case>{{"", "is empty"},
                                                {"no-at-sign/x", "no '@'"},
                                                {"name@host-without-slash", "no '/'"},
                                                {"@host/x", "empty name"},
                                                {"name@/x", "empty host"},
                                                {"name@host:/x", "invalid host or port"},
                                                {"name@host:0/x", "invalid host or port"},
                                                {"name@host:65536/x", "invalid host or port"},
                                                {"name@host:12ab/x", "invalid host or port"},
                                                {"name@ho st/x", "invalid host or port"},
                                                {"name@[::1/x", "invalid host or port"}}) {
    CAPTURE(text);
    auto r = parse_client_id(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_client_id);
    CHECK(r.error().message.find("--client-id / BATON_CLIENT_ID") != std::string::npos);
    CHECK(r.error().message.find(why) != std::string::npos);
  }
}

TEST_CASE("API endpoint: BATON_C1_API_HOST replaces host and port, else the id's") {
  auto id = parse_client_id("c@acme.conductor.one/x");
  REQUIRE(id);
  auto def = api_endpoint(*id, "");
  REQUIRE(def);
  CHECK(def->host == "acme.conductor.one");
  CHECK(def->port == 443);
  CHECK(def->host_port() == "acme.conductor.one:443");
  auto local = api_endpoint(*id, "127.0.0.1:9000");
  REQUIRE(local);
  CHECK(local->host == "127.0.0.1");
  CHECK(local->port == 9000);
  auto name_only = api_endpoint(*id, "other.example");
  REQUIRE(name_only);
  CHECK(name_only->port == 443);
  auto v6 = api_endpoint(*id, "[::1]:7000");
  REQUIRE(v6);
  CHECK(v6->host_port() == "[::1]:7000");
  auto bad = api_endpoint(*id, "https://x/");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::invalid_api_host);
  CHECK(bad.error().message.find("BATON_C1_API_HOST") != std::string::npos);
}

TEST_CASE("client secret: the SDK's shape parses into the key") {
  auto k = t::make_key();
  auto key = parse_client_secret(t::make_secret(k));
  REQUIRE(key);
  CHECK(std::string(key->seed().begin(), key->seed().end()) == k.seed);
  CHECK(std::string(key->public_key().begin(), key->public_key().end()) == k.public_key);
  CHECK(key->kid().empty());
  auto with_kid = parse_client_secret(t::make_secret(k, "key-1"));
  REQUIRE(with_kid);
  CHECK(with_kid->kid() == "key-1");
}

TEST_CASE("client secret: the first two fields are not checked, extra JWK members are ignored") {
  auto k = t::make_key();
  std::string json = t::jwk_json(k);
  json.insert(json.size() - 1, R"(,"use":"sig","alg":"EdDSA","n":[1,{"a":2}])");
  auto key = parse_client_secret("anything:else.example:v1:" + bp::base64url_encode(json));
  CHECK(key);
}

namespace {

std::string padded(std::string json) {
  // Make the encoding need padding, then add it as standard base64 would.
  while (json.size() % 3 == 0) json.insert(json.size() - 1, " ");
  std::string enc = base64url_encode(json);
  while (enc.size() % 4 != 0) enc += '=';
  return enc;
}

struct bad_secret {
  std::string name;
  std::string secret;
  std::string why;
};

std::vector<bad_secret> bad_secrets(const t::test_key& k) {
  auto other = t::make_key();
  auto x = base64url_encode(k.public_key);
  auto d = base64url_encode(k.seed);
  auto from = [](std::string json) { return t::secret_from_json(json); };
  return {
      {"empty", "", "is empty"},
      {"three fields", "secret-token:conductorone.com:" + base64url_encode(t::jwk_json(k)), "four ':'-separated fields"},
      {"wrong version", "secret-token:conductorone.com:v2:" + base64url_encode(t::jwk_json(k)), "version"},
      {"padded base64", "secret-token:conductorone.com:v1:" + padded(t::jwk_json(k)), "base64url without padding"},
      {"extra colon", t::make_secret(k) + ":more", "base64url without padding"},
      {"not json", from("not json at all"), "not a JSON Web Key"},
      {"json array", from("[1,2,3]"), "not a JSON Web Key"},
      {"trailing data", from(t::jwk_json(k) + "{}"), "not a JSON Web Key"},
      {"wrong kty", from(R"({"kty":"EC","crv":"Ed25519","x":")" + x + R"(","d":")" + d + "\"}"), "kty"},
      {"missing kty", from(R"({"crv":"Ed25519","x":")" + x + R"(","d":")" + d + "\"}"), "kty"},
      {"wrong crv", from(R"({"kty":"OKP","crv":"X25519","x":")" + x + R"(","d":")" + d + "\"}"), "crv"},
      {"missing d", from(R"({"kty":"OKP","crv":"Ed25519","x":")" + x + "\"}"), "no private part (d)"},
      {"missing x", from(R"({"kty":"OKP","crv":"Ed25519","d":")" + d + "\"}"), "no public part (x)"},
      {"short d", from(R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","d":")" + base64url_encode(k.seed.substr(0, 31)) + "\"}"),
       "private part (d) is not 32 bytes"},
      {"d not a string", from(R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","d":12})"), "private part (d) is not 32 bytes"},
      {"padded d", from(R"({"kty":"OKP","crv":"Ed25519","x":")" + x + R"(","d":")" + d + "=\"}"), "private part (d)"},
      {"long x", from(R"({"kty":"OKP","crv":"Ed25519","x":")" + base64url_encode(k.public_key + "A") + R"(","d":")" + d + "\"}"),
       "public part (x) is not 32 bytes"},
      {"x of another key", from(R"({"kty":"OKP","crv":"Ed25519","x":")" + base64url_encode(other.public_key) + R"(","d":")" + d + "\"}"),
       "does not belong"},
  };
}

}  // namespace

TEST_CASE("client secret: every malformed secret is refused with a reason and without the secret") {
  auto k = t::make_key();
  const std::string d = base64url_encode(k.seed);
  for (const auto& c : bad_secrets(k)) {
    CAPTURE(c.name);
    auto r = parse_client_secret(c.secret);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_client_secret);
    const std::string& msg = r.error().message;
    CAPTURE(msg);
    CHECK(msg.find("--client-secret / BATON_CLIENT_SECRET") != std::string::npos);
    CHECK(msg.find(c.why) != std::string::npos);
    // No piece of the secret: neither the encoded key, nor the private part, nor the whole value.
    if (!c.secret.empty()) CHECK(msg.find(c.secret) == std::string::npos);
    auto last_colon = c.secret.rfind(':');
    if (last_colon != std::string::npos) CHECK(msg.find(c.secret.substr(last_colon + 1, 12)) == std::string::npos);
    CHECK(msg.find(d.substr(0, 12)) == std::string::npos);
    CHECK(msg.find(k.seed) == std::string::npos);
  }
}

TEST_CASE("client id errors never echo the value (a swapped secret stays hidden)") {
  auto k = t::make_key();
  std::string secret = t::make_secret(k);
  auto r = parse_client_id(secret);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("secret-token") == std::string::npos);
  CHECK(r.error().message.find(base64url_encode(k.seed)) == std::string::npos);
}

TEST_CASE("signing key: moving wipes the source's private bytes") {
  auto k = t::make_key();
  auto parsed = parse_client_secret(t::make_secret(k));
  REQUIRE(parsed);
  signing_key a = std::move(parsed).value();
  signing_key b = std::move(a);
  signing_key::bytes32 zero{};
  CHECK(a.seed() == zero);  // NOLINT(bugprone-use-after-move): checking the moved-from state is the point
  CHECK(std::string(b.seed().begin(), b.seed().end()) == k.seed);
}

TEST_CASE("load_credentials: parses both and registers the secret for redaction") {
  auto k = t::make_key();
  std::string secret = t::make_secret(k);
  auto creds = load_credentials("c@localhost:1/x", secret);
  REQUIRE(creds);
  CHECK(creds->id.port == 1);
  CHECK(bp::log::redact("secret is " + secret) == "secret is [REDACTED]");

  std::string malformed = "secret-token:conductorone.com:v9:whatever-not-a-key";
  auto bad = load_credentials("c@localhost/x", malformed);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::invalid_client_secret);
  CHECK(bp::log::redact(malformed) == "[REDACTED]");

  auto bad_id = load_credentials("no-at", secret);
  REQUIRE_FALSE(bad_id);
  CHECK(bad_id.error().code == errc::invalid_client_id);
  bp::log::clear_secrets();
}
