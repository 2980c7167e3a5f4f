#include "baton_percipio/service/token_source.hpp"

#include <asio/ip/tcp.hpp>
#include <doctest/doctest.h>
#include <simdjson.h>

#include <atomic>
#include <thread>

#include "baton_percipio/core/log.hpp"
#include "service/test_keys.hpp"
#include "service/token_server.hpp"

using namespace bp::service;
using bp::base64url_encode;
namespace t = bp::service::test;
using bp::net::test::received;
using bp::net::test::reply;

namespace {

constexpr std::string_view id_text = "otter@acme.conductor.one/pcc";

reply json_reply(int code, std::string body) {
  return bp::net::test::status(code, std::move(body), {"Content-Type: application/json"});
}

reply token_reply(std::string token, int expires_in, std::string type = "Bearer") {
  return json_reply(200, R"({"access_token":")" + token + R"(","token_type":")" + type +
                             R"(","expires_in":)" + std::to_string(expires_in) + R"(,"scope":"x"})");
}

// A fake steady clock the test moves by hand.
struct fake_clock {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point(std::chrono::hours(1000));
  token_source::steady_now fn() {
    return [this] { return now; };
  }
};

struct setup {
  t::test_key raw = t::make_key();
  std::string secret = t::make_secret(raw);

  token_source make(const t::token_server& srv, token_source::steady_now clock = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(10), bool trust = true) {
    auto creds = load_credentials(id_text, secret);
    REQUIRE(creds);
    token_options o;
    o.api = endpoint{"localhost", srv.port()};
    if (trust) o.ca_file = srv.ca_file();
    o.timeout = timeout;
    return token_source(std::move(creds).value(), std::move(o), std::move(clock));
  }
};

std::string form_value(const received& r, std::string_view key) {
  for (auto& [k, v] : t::parse_form(r.body)) {
    if (k == key) return v;
  }
  return "<missing>";
}

// No part of the secret, the key, an assertion or a token in the text.
void check_clean(const std::string& text, const setup& s, const std::vector<received>& seen,
                 const std::vector<std::string>& tokens = {}) {
  CAPTURE(text);
  CHECK(text.find(s.secret.substr(s.secret.rfind(':') + 1, 16)) == std::string::npos);
  CHECK(text.find(base64url_encode(s.raw.seed).substr(0, 16)) == std::string::npos);
  for (const auto& r : seen) {
    std::string assertion = form_value(r, "client_assertion");
    if (assertion.size() > 20) CHECK(text.find(assertion.substr(assertion.size() - 20)) == std::string::npos);
  }
  for (const auto& tok : tokens) CHECK(text.find(tok) == std::string::npos);
}

}  // namespace

TEST_CASE("token: the request is the SDK's client-credentials POST with a verifiable assertion") {
  setup s;
  t::token_server srv([](const received&, std::size_t) { return token_reply("tok-1", 3600); });
  auto ts = s.make(srv);
  auto auth = ts.authorization();
  REQUIRE_MESSAGE(auth, (auth ? "" : auth.error().message));
  CHECK(*auth == "Bearer tok-1");

  auto seen = srv.seen();
  REQUIRE(seen.size() == 1);
  const auto& r = seen[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/auth/v1/token");
  CHECK(bp::net::find_header(r.headers, "content-type") == std::optional<std::string_view>("application/x-www-form-urlencoded"));
  CHECK(bp::net::find_header(r.headers, "user-agent") == std::optional<std::string_view>("baton-percipio/" BP_VERSION));
  auto form = t::parse_form(r.body);
  REQUIRE(form.size() == 4);
  CHECK(form[0].first == "client_assertion");
  CHECK(form[1] == std::pair<std::string, std::string>("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
  CHECK(form[2] == std::pair<std::string, std::string>("client_id", std::string(id_text)));
  CHECK(form[3] == std::pair<std::string, std::string>("grant_type", "client_credentials"));
  CHECK(r.body.find("client_id=otter%40acme.conductor.one%2Fpcc") != std::string::npos);

  const std::string& jws = form[0].second;
  CHECK(t::verify_jws(jws, s.raw.public_key));
  // The audience is the id's host, not the host the request went to.
  auto payload = t::split_jws(jws).payload;
  CHECK(payload.find(R"("aud":"acme.conductor.one")") != std::string::npos);
  CHECK(payload.find(R"("iss":"otter@acme.conductor.one/pcc")") != std::string::npos);
  // The assertion was redacted while its request ran (see "nothing secret reaches a log line");
  // once used it is forgotten, the token it bought is not.
  CHECK(bp::log::redact(jws) == jws);
  CHECK(bp::log::redact("tok-1") == "[REDACTED]");
  bp::log::clear_secrets();
}

TEST_CASE("token: cached while more than 10 s remain, renewed otherwise") {
  setup s;
  std::atomic<int> n{0};
  t::token_server srv([&](const received&, std::size_t) { return token_reply("tok-" + std::to_string(++n), 60); });
  fake_clock clock;
  auto ts = s.make(srv, clock.fn());
  CHECK(ts.authorization().value() == "Bearer tok-1");
  clock.now += std::chrono::seconds(49);  // 11 s left
  CHECK(ts.authorization().value() == "Bearer tok-1");
  CHECK(srv.count() == 1);
  clock.now += std::chrono::seconds(1);  // 10 s left: renew
  CHECK(ts.authorization().value() == "Bearer tok-2");
  CHECK(srv.count() == 2);
  clock.now += std::chrono::seconds(49);
  CHECK(ts.authorization().value() == "Bearer tok-2");
  ts.invalidate();
  CHECK(ts.authorization().value() == "Bearer tok-3");
  CHECK(ts.stats().requests == 3);
  bp::log::clear_secrets();
}

TEST_CASE("token: renewals do not grow the redaction list (old tokens and used assertions are forgotten)") {
  setup s;
  std::atomic<int> n{0};
  t::token_server srv([&](const received&, std::size_t) { return token_reply("token-number-" + std::to_string(++n), 5); });
  fake_clock clock;
  auto ts = s.make(srv, clock.fn());
  CHECK(ts.authorization().ok());
  const auto after_first = bp::log::secret_count();
  for (int i = 0; i < 50; ++i) CHECK(ts.authorization().ok());
  CHECK(srv.count() == 51);
  CHECK(bp::log::secret_count() == after_first);
  // The current token is still redacted; a replaced one no longer needs to be.
  CHECK(bp::log::redact("x token-number-51 y") == "x [REDACTED] y");
  bp::log::clear_secrets();
}

TEST_CASE("token: a lifetime of 10 s or less means a new token for every call") {
  setup s;
  std::atomic<int> n{0};
  t::token_server srv([&](const received&, std::size_t) { return token_reply("tok-" + std::to_string(++n), 10); });
  fake_clock clock;
  auto ts = s.make(srv, clock.fn());
  CHECK(ts.authorization().value() == "Bearer tok-1");
  CHECK(ts.authorization().value() == "Bearer tok-2");
  CHECK(srv.count() == 2);
  bp::log::clear_secrets();
}

TEST_CASE("token: the token type") {
  setup s;
  std::string type;
  t::token_server srv([&](const received&, std::size_t) { return token_reply("tok", 3600, type); });
  for (auto [given, expected] : {std::pair{"bearer", "Bearer tok"}, std::pair{"BEARER", "Bearer tok"},
                                 std::pair{"", "Bearer tok"}, std::pair{"DPoP", "DPoP tok"}}) {
    type = given;
    auto ts = s.make(srv);
    CHECK(ts.authorization().value() == expected);
  }
  bp::log::clear_secrets();
}

TEST_CASE("token: 400, 401 and 403 are authentication failures, named as such and without secrets") {
  setup s;
  std::string echoed;
  int code = 401;
  t::token_server srv([&](const received& r, std::size_t) {
    // A server that echoes the assertion: the message must still not show it.
    echoed = form_value(r, "client_assertion");
    return json_reply(code, R"({"error":"invalid_client","error_description":"bad assertion )" + echoed + "\"}");
  });
  for (int c : {400, 401, 403}) {
    CAPTURE(c);
    code = c;
    auto ts = s.make(srv);
    auto auth = ts.authorization();
    REQUIRE_FALSE(auth);
    CHECK(auth.error().code == errc::auth_failed);
    const auto& msg = auth.error().message;
    CHECK(msg.find("HTTP " + std::to_string(c)) != std::string::npos);
    CHECK(msg.find("invalid_client") != std::string::npos);
    CHECK(msg.find("--client-secret / BATON_CLIENT_SECRET") != std::string::npos);
    check_clean(msg, s, srv.seen());
  }
  bp::log::clear_secrets();
}

TEST_CASE("token: 5xx and 429 are transient") {
  setup s;
  int code = 500;
  t::token_server srv([&](const received&, std::size_t) { return json_reply(code, "oops"); });
  for (int c : {500, 502, 503, 429}) {
    CAPTURE(c);
    code = c;
    auto ts = s.make(srv);
    auto auth = ts.authorization();
    REQUIRE_FALSE(auth);
    CHECK(auth.error().code == errc::unavailable);
    CHECK(auth.error().message.find("HTTP " + std::to_string(c)) != std::string::npos);
    CHECK(auth.error().message.find("/auth/v1/token") != std::string::npos);
    check_clean(auth.error().message, s, srv.seen());
  }
  bp::log::clear_secrets();
}

TEST_CASE("token: a 200 that is not the expected JSON is transient, with the reason") {
  setup s;
  std::string body;
  t::token_server srv([&](const received&, std::size_t) { return json_reply(200, body); });
  for (auto [given, why] : {std::pair{"not json", "not a valid JSON object"},
                            std::pair{"[]", "not a valid JSON object"},
                            std::pair{R"({"access_token":"","token_type":"Bearer","expires_in":60})", "access_token is missing or empty"},
                            std::pair{R"({"token_type":"Bearer","expires_in":60})", "access_token is missing or empty"},
                            std::pair{R"({"access_token":"secret-tok","expires_in":60.5})", "expires_in is not an integer"},
                            std::pair{R"({"access_token":"secret-tok","expires_in":"60"})", "expires_in is not an integer"},
                            std::pair{R"({"access_token":"secret-tok"})", "expires_in is missing"},
                            std::pair{R"({"access_token":7,"expires_in":60})", "access_token is not a string"},
                            std::pair{R"({"access_token":"secret-tok","expires_in":60)", "not a valid JSON object"},
                            std::pair{R"({"access_token":"secret-tok","expires_in":60}x)", "not a valid JSON object"}}) {
    body = given;
    CAPTURE(body);
    auto ts = s.make(srv);
    auto auth = ts.authorization();
    REQUIRE_FALSE(auth);
    CAPTURE(auth.error().message);
    CHECK(auth.error().code == errc::unavailable);
    CHECK(auth.error().message.find("unexpected reply") != std::string::npos);
    CHECK(auth.error().message.find(why) != std::string::npos);
    check_clean(auth.error().message, s, srv.seen(), {"secret-tok"});
  }
  bp::log::clear_secrets();
}

TEST_CASE("token: connection refused, an untrusted certificate and a silent server are transient") {
  setup s;
  SUBCASE("refused") {
    std::uint16_t closed_port;
    {
      asio::io_context io;
      asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      closed_port = a.local_endpoint().port();
    }
    auto creds = load_credentials(id_text, s.secret);
    token_options o;
    o.api = endpoint{"127.0.0.1", closed_port};
    token_source ts(std::move(creds).value(), o);
    auto auth = ts.authorization();
    REQUIRE_FALSE(auth);
    CHECK(auth.error().code == errc::unavailable);
    CHECK(auth.error().message.find("https://127.0.0.1:" + std::to_string(closed_port) + "/auth/v1/token failed") !=
          std::string::npos);
  }
  SUBCASE("untrusted") {
    t::token_server srv([](const received&, std::size_t) { return token_reply("tok", 60); });
    auto ts = s.make(srv, {}, std::chrono::seconds(10), /*trust=*/false);
    auto auth = ts.authorization();
    REQUIRE_FALSE(auth);
    CHECK(auth.error().code == errc::unavailable);
    CHECK(srv.count() == 0);
  }
  SUBCASE("silent") {
    t::token_server srv([](const received&, std::size_t) { return token_reply("tok", 60); }, /*silent=*/true);
    auto ts = s.make(srv, {}, std::chrono::milliseconds(300));
    auto auth = ts.authorization();
    REQUIRE_FALSE(auth);
    CHECK(auth.error().code == errc::unavailable);
    CHECK(auth.error().message.find("failed") != std::string::npos);
  }
  bp::log::clear_secrets();
}

TEST_CASE("token: an unreadable CA file is a setup error") {
  setup s;
  auto creds = load_credentials(id_text, s.secret);
  token_options o;
  o.api = endpoint{"localhost", 1};
  o.ca_file = "/nonexistent/ca.pem";
  CHECK_THROWS_AS(token_source(std::move(creds).value(), o), std::runtime_error);
  bp::log::clear_secrets();
}

TEST_CASE("token: concurrent callers share one request") {
  setup s;
  t::token_server srv([](const received&, std::size_t) { return token_reply("tok-shared", 3600); });
  auto ts = s.make(srv);
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = ts.authorization().value(); });
  }
  for (auto& th : threads) th.join();
  for (auto& g : got) CHECK(g == "Bearer tok-shared");
  CHECK(srv.count() == 1);
  bp::log::clear_secrets();
}

namespace {
struct capture_sink : bp::log::sink {
  std::mutex mu;
  std::string lines;
  void write(std::string_view line) override {
    std::lock_guard lk(mu);
    lines += line;
  }
};
}  // namespace

TEST_CASE("token: nothing secret reaches a log line, even with redaction off") {
  setup s;
  t::token_server srv([](const received&, std::size_t i) {
    return i == 0 ? json_reply(401, R"({"error":"invalid_client"})") : token_reply("tok-logged-never", 3600);
  });
  capture_sink sink;
  bp::log::set_sink(&sink);
  bp::log::configure(bp::log::level::debug, bp::log::format::json);
  bp::log::set_redaction(false);
  {
    auto ts = s.make(srv);
    auto first = ts.authorization();
    REQUIRE_FALSE(first);
    bp::log::error("token failed", {{"error", first.error().message}});
    CHECK(ts.authorization().value() == "Bearer tok-logged-never");
  }
  bp::log::set_redaction(true);
  bp::log::set_sink(nullptr);
  bp::log::configure(bp::log::level::info, bp::log::format::json);
  CHECK(sink.lines.find("ConductorOne access token obtained") != std::string::npos);
  check_clean(sink.lines, s, srv.seen(), {"tok-logged-never"});
  bp::log::clear_secrets();
}
