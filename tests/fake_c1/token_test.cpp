// POST /auth/v1/token: what the fake accepts and refuses, and what it records.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "baton_percipio/fake_c1/server.hpp"
#include "flat_json.hpp"
#include "test_client.hpp"

namespace fc = bp::fake_c1;
namespace t = bp::fake_c1_test;

namespace {

// Claims with one value changed from what the SDK sends.
struct claims {
  std::string iss, sub, aud;
  std::int64_t iat, nbf, exp;
  std::string json() const {
    return R"({"iss":")" + iss + R"(","sub":")" + sub + R"(","aud":")" + aud + R"(","iat":)" + std::to_string(iat) +
           R"(,"nbf":)" + std::to_string(nbf) + R"(,"exp":)" + std::to_string(exp) + "}";
  }
};

claims sdk_claims(const fc::client_credentials& c, std::int64_t now) {
  return {c.client_id, c.client_id, fc::client_id_audience(c.client_id).value(), now, now - 120, now + 120};
}

const std::string sdk_header = R"({"alg":"EdDSA","nonce":"0123456789abcdef0123456789abcdef"})";

int post_claims(const fc::server& srv, const claims& cl) {
  auto jws = t::sign_jws(srv.credentials().private_seed, sdk_header, cl.json());
  return t::post_token(srv, t::form_body(srv.credentials().client_id, jws)).status;
}

}  // namespace

TEST_CASE("a token request like the SDK's gets a bearer token with an integer expires_in") {
  fc::options o;
  o.token_lifetime = std::chrono::seconds(15);
  fc::server srv(o);
  const auto& c = srv.credentials();
  CHECK(c.client_id == "baton-percipio@" + srv.address() + "/fake-c1");

  auto r = t::post_token(srv, t::form_body(c.client_id, t::sdk_assertion(c, t::unix_now())));
  CHECK(r.alpn == "http/1.1");  // server preference over the client's h2
  REQUIRE(r.status == 200);
  auto body = bp::fake_c1::detail::parse_flat_object(r.body);
  REQUIRE(body.has_value());
  const std::string* token = bp::fake_c1::detail::find_string(*body, "access_token");
  REQUIRE(token != nullptr);
  CHECK(token->size() >= 32);
  CHECK(*bp::fake_c1::detail::find_string(*body, "token_type") == "Bearer");
  CHECK(bp::fake_c1::detail::find_integer(*body, "expires_in").value() == 15);

  auto recs = srv.token_requests();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].client_id == c.client_id);
  CHECK(recs[0].status == 200);
  CHECK(recs[0].reason.empty());
  CHECK(recs[0].expires_in == 15);
  CHECK(srv.counts().tokens_issued == 1);
}

TEST_CASE("every mismatch is a 401 with its reason recorded") {
  fc::server srv;
  const auto& c = srv.credentials();
  const auto now = t::unix_now();
  auto good = sdk_claims(c, now);
  auto with = [&](auto change) {
    claims cl = good;
    change(cl);
    return cl;
  };

  CHECK(post_claims(srv, good) == 200);
  CHECK(post_claims(srv, with([](claims& cl) { cl.iss = "other@x/y"; })) == 401);
  CHECK(post_claims(srv, with([](claims& cl) { cl.sub = "other@x/y"; })) == 401);
  CHECK(post_claims(srv, with([&](claims& cl) { cl.aud = srv.address(); })) == 401);  // aud keeps no port
  CHECK(post_claims(srv, with([](claims& cl) { cl.exp = cl.iat - 1; })) == 401);
  CHECK(post_claims(srv, with([](claims& cl) { cl.nbf = cl.iat + 300; })) == 401);
  CHECK(post_claims(srv, with([](claims& cl) { cl.iat += 3600; })) == 401);

  auto assertion = t::sdk_assertion(c, now);
  CHECK(t::post_token(srv, t::form_body(c.client_id, assertion, "password")).status == 401);
  CHECK(t::post_token(srv, t::form_body(c.client_id, assertion, "client_credentials", "jwt")).status == 401);
  CHECK(t::post_token(srv, t::form_body("stranger@" + srv.address() + "/x", assertion)).status == 401);
  auto other = fc::make_client_credentials("n", srv.address());
  CHECK(t::post_token(srv, t::form_body(c.client_id, t::sign_jws(other.private_seed, sdk_header, good.json())))
            .status == 401);
  CHECK(t::post_token(srv, t::form_body(c.client_id, assertion), "application/json").status == 400);

  auto recs = srv.token_requests();
  REQUIRE(recs.size() == 12);
  CHECK(recs[0].status == 200);
  CHECK(recs[1].reason == "iss/sub is not the client id");
  CHECK(recs[3].reason == "aud is not the client id's host");
  CHECK(recs[4].reason == "assertion expired");
  CHECK(recs[5].reason == "assertion not yet valid");
  CHECK(recs[6].reason == "assertion issued in the future");
  CHECK(recs[7].reason == "grant_type is not client_credentials");
  CHECK(recs[8].reason == "client_assertion_type is not jwt-bearer");
  CHECK(recs[9].reason == "unknown client_id");
  CHECK(recs[10].reason == "assertion signature invalid");
  CHECK(srv.counts().tokens_issued == 1);
}

TEST_CASE("another registered client, and a realistic client host with aud from the id") {
  fc::options o;
  o.client_host = "tenant.conductor.one";
  fc::server srv(o);
  CHECK(srv.credentials().client_id == "baton-percipio@tenant.conductor.one/fake-c1");
  CHECK(t::fetch_token(srv) != "");

  auto second = fc::make_client_credentials("second", "other.conductor.one:443");
  srv.register_client(second);
  auto jws = t::sdk_assertion(second, t::unix_now());
  CHECK(t::post_token(srv, t::form_body(second.client_id, jws)).status == 200);
}

TEST_CASE("fault injection: reject, status override, delay") {
  fc::server srv;
  fc::faults f;
  f.token_reject = true;
  srv.set_faults(f);
  CHECK(t::fetch_token(srv).empty());
  CHECK(srv.token_requests().back().status == 401);
  CHECK(srv.token_requests().back().reason == "rejected by fault injection");

  f = {};
  f.token_status = 500;
  srv.set_faults(f);
  CHECK(t::post_token(srv, t::form_body(srv.credentials().client_id, t::sdk_assertion(srv.credentials(), t::unix_now())))
            .status == 500);

  f = {};
  f.token_delay = std::chrono::milliseconds(150);
  srv.set_faults(f);
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(t::fetch_token(srv).empty());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
}

TEST_CASE("wrong path and method") {
  fc::server srv;
  auto get = t::tls_exchange(srv.port(), srv.ca_pem(), {"http/1.1"},
                             "GET /auth/v1/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(get.bytes.rfind("HTTP/1.1 405", 0) == 0);
  auto other = t::tls_exchange(srv.port(), srv.ca_pem(), {"http/1.1"},
                               "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(other.bytes.rfind("HTTP/1.1 404", 0) == 0);
}

TEST_CASE("the call log never holds the token, the assertion or the secret") {
  auto dir = std::filesystem::temp_directory_path() / ("fake_c1_log_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  fc::options o;
  o.log_path = dir / "calls.jsonl";
  std::string token;
  std::string assertion;
  std::string secret;
  {
    fc::server srv(o);
    secret = srv.credentials().client_secret;
    assertion = t::sdk_assertion(srv.credentials(), t::unix_now());
    auto r = t::post_token(srv, t::form_body(srv.credentials().client_id, assertion));
    REQUIRE(r.status == 200);
    token = bp::fake_c1::detail::find_string(*bp::fake_c1::detail::parse_flat_object(r.body), "access_token")->c_str();
  }
  std::ifstream in(o.log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string log = ss.str();
  CHECK(log.find(R"("method":"Token")") != std::string::npos);
  CHECK(log.find(R"("method":"Connection")") != std::string::npos);
  CHECK(log.find(token) == std::string::npos);
  CHECK(log.find(assertion.substr(assertion.rfind('.') + 1)) == std::string::npos);
  CHECK(log.find(secret.substr(secret.rfind(':') + 1)) == std::string::npos);
  std::filesystem::remove_all(dir);
}
