#include "baton_percipio/service/client_assertion.hpp"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <regex>
#include <set>

#include "service/test_keys.hpp"

using namespace bp::service;
namespace t = bp::service::test;

namespace {

struct fixture {
  t::test_key raw = t::make_key();
  client_id id = parse_client_id("otter@acme.conductor.one:8443/pcc").value();
  std::chrono::system_clock::time_point now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
};

}  // namespace

TEST_CASE("client assertion: header is exactly alg EdDSA and a 32-hex nonce") {
  fixture f;
  auto key = parse_client_secret(t::make_secret(f.raw)).value();
  std::set<std::string> nonces;
  for (int i = 0; i < 3; ++i) {
    auto parts = t::split_jws(make_client_assertion(f.id, key, f.now));
    CAPTURE(parts.header);
    std::smatch m;
    REQUIRE(std::regex_match(parts.header, m, std::regex(R"re(\{"alg":"EdDSA","nonce":"([0-9a-f]{32})"\})re")));
    nonces.insert(m[1]);
  }
  CHECK(nonces.size() == 3);  // fresh randomness each time
}

TEST_CASE("client assertion: a kid in the JWK is copied into the header") {
  fixture f;
  auto key = parse_client_secret(t::make_secret(f.raw, "kid-7")).value();
  auto parts = t::split_jws(make_client_assertion(f.id, key, f.now));
  CHECK(std::regex_match(parts.header, std::regex(R"re(\{"alg":"EdDSA","kid":"kid-7","nonce":"[0-9a-f]{32}"\})re")));
}

TEST_CASE("client assertion: claims are exactly iss, sub, aud (host without port), exp, nbf, iat") {
  fixture f;
  auto key = parse_client_secret(t::make_secret(f.raw)).value();
  auto parts = t::split_jws(make_client_assertion(f.id, key, f.now));
  CHECK(parts.payload ==
        R"({"iss":"otter@acme.conductor.one:8443/pcc","sub":"otter@acme.conductor.one:8443/pcc",)"
        R"("aud":"acme.conductor.one","exp":1700000120,"nbf":1699999880,"iat":1700000000})");
  // And as a JSON reader sees it: aud is a string, times are integers.
  simdjson::ondemand::parser p;
  simdjson::padded_string json(parts.payload);
  auto doc = p.iterate(json);
  std::size_t members = 0;
  for (auto field : doc.get_object()) {
    (void)field;
    ++members;
  }
  CHECK(members == 6);
  auto doc2 = p.iterate(json);
  CHECK(doc2["aud"].type().value() == simdjson::ondemand::json_type::string);
  CHECK(doc2["iat"].get_int64().value() == 1700000000);
}

TEST_CASE("client assertion: the Ed25519 signature verifies with the public key, and only for this content") {
  fixture f;
  auto key = parse_client_secret(t::make_secret(f.raw)).value();
  std::string jws = make_client_assertion(f.id, key, f.now);
  CHECK(jws.find('=') == std::string::npos);
  CHECK(t::split_jws(jws).signature.size() == 64);
  CHECK(t::verify_jws(jws, f.raw.public_key));
  CHECK_FALSE(t::verify_jws(jws, t::make_key().public_key));
  std::string tampered = jws;
  auto dot = tampered.find('.');
  tampered[dot + 3] = tampered[dot + 3] == 'A' ? 'B' : 'A';
  CHECK_FALSE(t::verify_jws(tampered, f.raw.public_key));
}
