// The fake's building blocks: base64url, credentials in ConductorOne's format, assertion checks,
// task specs.
#include <doctest/doctest.h>

#include "baton_percipio/core/base64url.hpp"
#include "baton_percipio/fake_c1/credentials.hpp"
#include "baton_percipio/fake_c1/tasks.hpp"
#include "crypto.hpp"
#include "flat_json.hpp"
#include "jws.hpp"
#include "test_client.hpp"

namespace fc = bp::fake_c1;
namespace d = bp::fake_c1::detail;
using bp::fake_c1_test::b64url;
using bp::fake_c1_test::sign_jws;

TEST_CASE("base64url: RFC 4648 vectors without padding, strict decoding") {
  CHECK(bp::base64url_encode("") == "");
  CHECK(bp::base64url_encode("f") == "Zg");
  CHECK(bp::base64url_encode("fo") == "Zm8");
  CHECK(bp::base64url_encode("foo") == "Zm9v");
  CHECK(bp::base64url_encode("foobar") == "Zm9vYmFy");
  CHECK(bp::base64url_encode("\xfb\xff") == "-_8");
  CHECK(bp::base64url_decode("Zm9vYmE").value() == "fooba");
  CHECK(bp::base64url_decode("-_8").value() == "\xfb\xff");
  CHECK_FALSE(bp::base64url_decode("Zg==").has_value());  // padding is refused, as the SDK does
  CHECK_FALSE(bp::base64url_decode("Zm9v+").has_value());
  CHECK_FALSE(bp::base64url_decode("Z").has_value());
  CHECK(bp::base64url_decode("Zh").value() == "f");  // leftover bits ignored, as Go's RawURLEncoding does
  for (int n = 0; n < 40; ++n) {
    std::string bytes = d::random_bytes(static_cast<std::size_t>(n));
    CHECK(bp::base64url_decode(bp::base64url_encode(bytes)).value() == bytes);
    CHECK(bp::base64url_encode(bytes) == b64url(bytes));  // the tests' own encoder agrees
  }
}

TEST_CASE("credentials: client id and secret in the SDK's format") {
  auto c = fc::make_client_credentials("percipio", "tenant.conductor.one:8443", "abc");
  CHECK(c.client_id == "percipio@tenant.conductor.one:8443/abc");
  CHECK(fc::client_id_host(c.client_id).value() == "tenant.conductor.one:8443");
  CHECK(fc::client_id_audience(c.client_id).value() == "tenant.conductor.one");
  CHECK(fc::client_id_audience("x@[::1]:5/s").value() == "::1");
  CHECK(fc::client_id_audience("x@127.0.0.1/s").value() == "127.0.0.1");
  CHECK_FALSE(fc::client_id_host("no-at/x").has_value());
  CHECK_FALSE(fc::client_id_host("x@no-slash").has_value());

  const std::string prefix = "secret-token:conductorone.com:v1:";
  REQUIRE(c.client_secret.rfind(prefix, 0) == 0);
  auto jwk_json = bp::base64url_decode(c.client_secret.substr(prefix.size()));
  REQUIRE(jwk_json.has_value());
  auto jwk = d::parse_flat_object(*jwk_json);
  REQUIRE(jwk.has_value());
  CHECK(jwk->size() == 4);
  CHECK(*d::find_string(*jwk, "kty") == "OKP");
  CHECK(*d::find_string(*jwk, "crv") == "Ed25519");
  CHECK(bp::base64url_decode(*d::find_string(*jwk, "x")).value() == c.public_key);
  CHECK(bp::base64url_decode(*d::find_string(*jwk, "d")).value() == c.private_seed);
  CHECK(c.public_key.size() == 32);
  CHECK(c.private_seed.size() == 32);
}

TEST_CASE("verify_assertion: signature, alg and claim types") {
  auto c = fc::make_client_credentials("n", "h", "s");
  auto other = fc::make_client_credentials("n", "h", "s");
  const std::string header = R"({"alg":"EdDSA","nonce":"00112233445566778899aabbccddeeff"})";
  const std::string payload = R"({"iss":"n@h/s","sub":"n@h/s","aud":"h","iat":100,"nbf":-20,"exp":220})";

  auto ok = d::verify_assertion(sign_jws(c.private_seed, header, payload), c.public_key);
  REQUIRE(ok.ok);
  CHECK(ok.claims.iss == "n@h/s");
  CHECK(ok.claims.aud == "h");
  CHECK(ok.claims.iat == 100);
  CHECK(ok.claims.nbf == -20);
  CHECK(ok.claims.exp == 220);

  CHECK(d::verify_assertion(sign_jws(other.private_seed, header, payload), c.public_key).reason ==
        "assertion signature invalid");
  CHECK(d::verify_assertion(sign_jws(c.private_seed, R"({"alg":"ES256"})", payload), c.public_key).reason ==
        "assertion alg is not EdDSA");
  CHECK_FALSE(
      d::verify_assertion(sign_jws(c.private_seed, header, R"({"iss":"n@h/s","sub":"n@h/s","aud":["h"],"iat":1,"nbf":1,"exp":1})"),
                          c.public_key)
          .ok);
  CHECK_FALSE(
      d::verify_assertion(sign_jws(c.private_seed, header, R"({"iss":"n@h/s","sub":"n@h/s","aud":"h","iat":1.5,"nbf":1,"exp":1})"),
                          c.public_key)
          .ok);
  CHECK_FALSE(d::verify_assertion("a.b", c.public_key).ok);
  CHECK_FALSE(d::verify_assertion("a.b.c.d", c.public_key).ok);
  auto jws = sign_jws(c.private_seed, header, payload);
  jws[jws.size() / 2] = jws[jws.size() / 2] == 'A' ? 'B' : 'A';  // tampered
  CHECK_FALSE(d::verify_assertion(jws, c.public_key).ok);
}

TEST_CASE("task specs") {
  auto tasks = fc::parse_task_list("sync_full:skip_grants:types=user+course:storage_engine=sqlite:debug,hello,grant,event_feed,unset");
  REQUIRE(tasks.size() == 5);
  CHECK(fc::task_type_name(tasks[0]) == "sync_full");
  CHECK(tasks[0].sync_full().skip_grants());
  CHECK(tasks[0].sync_full().sync_resource_type_ids_size() == 2);
  CHECK(tasks[0].sync_full().sync_resource_type_ids(1) == "course");
  CHECK(tasks[0].sync_full().storage_engine() == "sqlite");
  CHECK(tasks[0].debug());
  CHECK(fc::task_type_name(tasks[1]) == "hello");
  CHECK(fc::task_type_name(tasks[2]) == "grant");
  CHECK(tasks[2].grant().has_entitlement());
  CHECK(tasks[2].grant().has_principal());
  CHECK(fc::task_type_name(tasks[3]) == "event_feed");
  CHECK(fc::task_type_name(tasks[4]) == "unset");
  for (const auto& t : tasks) {
    CHECK(t.id().size() == 27);
    CHECK(t.id().find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
          std::string::npos);
  }
  CHECK(tasks[0].id() != tasks[1].id());
  CHECK_FALSE(fc::make_task("grant_empty")->grant().has_entitlement());
  CHECK_THROWS_AS(fc::parse_task_list("sync_full,bogus"), std::invalid_argument);
  CHECK_THROWS_AS(fc::parse_task_list("sync_full:nope"), std::invalid_argument);
  CHECK_THROWS_AS(fc::parse_task_list("grant:skip_grants"), std::invalid_argument);
  CHECK(fc::parse_task_list("").empty());
}
