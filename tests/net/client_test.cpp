#include "baton_percipio/net/client.hpp"
#include "baton_percipio/net/task_group.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/error.hpp"
#include "baton_percipio/net/retry.hpp"
#include "test_server.hpp"

namespace bp::net {
namespace {

using namespace std::chrono_literals;
using test::received;
using test::reply;

request get(const std::string& u) {
  request r;
  r.u = *url::parse(u);
  return r;
}

client_options fast_options() {
  client_options o;
  o.t.connect = 2000ms;
  o.t.tls_handshake = 2000ms;
  o.t.write = 2000ms;
  o.t.first_byte = 2000ms;
  o.t.idle_read = 2000ms;
  return o;
}

bp::deadline soon() { return bp::steady_clock::now() + 10s; }

struct capture_sink : log::sink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};

}  // namespace

TEST_CASE("keep-alive: two requests share one connection") {
  asio::io_context io;
  test::server srv(io, [](const received& r) { return test::ok("hello " + r.target); });
  client c(io.get_executor(), fast_options());
  test::run(io, [&]() -> asio::awaitable<void> {
    const auto sent = std::chrono::steady_clock::now();
    auto [ec1, r1] = co_await c.async_request(get(srv.url("/a")), soon());
    CHECK_FALSE(ec1);
    CHECK(r1.status == 200);
    REQUIRE(r1.first_byte_at);
    CHECK(*r1.first_byte_at >= sent);
    CHECK(*r1.first_byte_at <= std::chrono::steady_clock::now());
    CHECK(r1.body == "hello /a");
    CHECK(r1.body.capacity() >= r1.body.size() + body_padding);
    auto [ec2, r2] = co_await c.async_request(get(srv.url("/b")), soon());
    CHECK_FALSE(ec2);
    CHECK(r2.body == "hello /b");
  }, [&] { srv.stop(); });
  CHECK(srv.requests() == 2);
  CHECK(srv.connections() == 1);
  CHECK(c.stats().connections_opened == 1);
  CHECK(c.stats().requests == 2);
  REQUIRE(srv.log().size() == 2);
  const auto& h = srv.log()[0].head;
  CHECK(h.find("Host: 127.0.0.1:" + std::to_string(srv.port())) != std::string::npos);
  CHECK(h.find("User-Agent: baton-percipio") != std::string::npos);
  CHECK(h.find("Accept-Encoding: gzip") != std::string::npos);
}

TEST_CASE("no reuse after Connection: close, a truncated body or a timeout") {
  asio::io_context io;
  test::server srv(io, [](const received& r) -> reply {
    if (r.target == "/close") return test::ok("x", {"Connection: close"});
    if (r.target == "/trunc") return test::raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", true);
    if (r.target == "/stall") return reply{{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart"}, false, true};
    return test::ok("fine");
  });
  auto opts = fast_options();
  opts.t.idle_read = 100ms;
  client c(io.get_executor(), opts);
  test::run(io, [&]() -> asio::awaitable<void> {
    auto [e1, r1] = co_await c.async_request(get(srv.url("/close")), soon());
    CHECK_FALSE(e1);
    auto [e2, r2] = co_await c.async_request(get(srv.url("/trunc")), soon());
    CHECK(e2 == errc::truncated_body);
    CHECK(r2.status == 200);
    CHECK(r2.body == "short");
    auto [e3, r3] = co_await c.async_request(get(srv.url("/stall")), soon());
    CHECK(e3 == errc::timeout);
    CHECK(r3.first_byte_at);  // answered, though the body never ended
    auto [e4, r4] = co_await c.async_request(get(srv.url("/ok")), soon());
    CHECK_FALSE(e4);
    CHECK(r4.body == "fine");
  }, [&] { srv.stop(); });
  CHECK(srv.connections() == 4);
}

TEST_CASE("first-byte timeout, overall deadline and connect timeout") {
  asio::io_context io;
  test::server srv(io, [](const received&) { return test::ok("never"); });
  srv.silent = true;
  auto opts = fast_options();
  opts.t.first_byte = 100ms;
  client c(io.get_executor(), opts);
  test::run(io, [&]() -> asio::awaitable<void> {
    auto t0 = bp::steady_clock::now();
    auto [e1, r1] = co_await c.async_request(get(srv.url("/")), soon());
    CHECK(e1 == errc::timeout);
    CHECK_FALSE(r1.first_byte_at);  // no answer at all
    // Ended by the 100 ms step, long before the 10 s overall deadline (a margin no slow build misses).
    CHECK(bp::steady_clock::now() - t0 < 5s);
    // The overall deadline bounds the steps too: 80 ms against steps of 2 s each, and a 60 s first byte.
    auto o2 = fast_options();
    o2.t.first_byte = 60s;
    client c2(co_await asio::this_coro::executor, o2);
    t0 = bp::steady_clock::now();
    auto [e2, r2] = co_await c2.async_request(get(srv.url("/")), bp::steady_clock::now() + 80ms);
    CHECK(e2 == errc::timeout);
    CHECK(bp::steady_clock::now() - t0 < 30s);
    // TLS handshake timeout: https to a server that never speaks.
    auto o3 = fast_options();
    o3.t.tls_handshake = 80ms;
    client c3(co_await asio::this_coro::executor, o3);
    auto [e3, r3] = co_await c3.async_request(get("https://localhost:" + std::to_string(srv.port()) + "/"), soon());
    CHECK(e3 == errc::timeout);
  }, [&] { srv.stop(); });
}

TEST_CASE("connect timeout against a full listen backlog") {
  asio::io_context io;
  asio::ip::tcp::acceptor acc(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  acc.listen(0);
  auto port = acc.local_endpoint().port();
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    fillers.back()->async_connect(acc.local_endpoint(), [](std::error_code) {});
  }
  io.poll();
  auto opts = fast_options();
  opts.t.connect = 100ms;
  opts.t.first_byte = 100ms;
  client c(io.get_executor(), opts);
  test::run(io, [&]() -> asio::awaitable<void> {
    auto t0 = bp::steady_clock::now();
    auto [ec, r] = co_await c.async_request(get("http://127.0.0.1:" + std::to_string(port) + "/"), soon());
    CHECK(ec == errc::timeout);
    CHECK(bp::steady_clock::now() - t0 < 5s);  // the 100 ms connect step, not the 10 s deadline
  }, [&] {
    acc.close();
    for (auto& f : fillers) f->close();
  });
}

TEST_CASE("cancellation stops a request promptly") {
  asio::io_context io;
  test::server srv(io, [](const received&) { return test::ok("never"); });
  srv.silent = true;
  client c(io.get_executor(), fast_options());
  test::run(io, [&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer t(co_await asio::this_coro::executor);
    t.expires_after(50ms);
    auto t0 = bp::steady_clock::now();
    auto res = co_await (c.async_request(get(srv.url("/")), soon()) || t.async_wait(asio::use_awaitable));
    CHECK(res.index() == 1);
    // Ended by the cancel, well before the 2 s first-byte step could have ended it.
    CHECK(bp::steady_clock::now() - t0 < 1900ms);

    std::error_code got;
    bool finished = false;
    auto request = [&]() -> asio::awaitable<void> {
      auto [ec, r] = co_await c.async_request(get(srv.url("/")), soon());
      got = ec;
      finished = true;
    };
    bp::net::task_group group(co_await asio::this_coro::executor);
    group.spawn(request());
    t.expires_after(30ms);  // the request is waiting for its first byte by then
    co_await t.async_wait(asio::use_awaitable);
    group.cancel();
    co_await group.join();  // returns once the request has ended
    CHECK(finished);
    CHECK(got == errc::cancelled);
  }, [&] { srv.stop(); });
}

TEST_CASE("plain http to a non-loopback host is refused without connecting") {
  asio::io_context io;
  client c(io.get_executor(), fast_options());
  test::run(io, [&]() -> asio::awaitable<void> {
    auto [ec, r] = co_await c.async_request(get("http://api.percipio.com/x"), soon());
    CHECK(ec == errc::insecure_url);
    CHECK(r.error_detail.find("loopback") != std::string::npos);
  });
  CHECK(c.stats().connections_opened == 0);
  CHECK(c.stats().requests == 0);
}

TEST_CASE("per-host cap: waiters queue until a connection is free") {
  asio::io_context io;
  test::server srv(io, [](const received& r) { return test::ok(r.target); });
  auto opts = fast_options();
  opts.max_connections_per_host = 2;
  client c(io.get_executor(), opts);
  int done = 0;
  test::run(io, [&]() -> asio::awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 6; ++i) {
      asio::co_spawn(ex, [&, i]() -> asio::awaitable<void> {
        auto [ec, r] = co_await c.async_request(get(srv.url("/" + std::to_string(i))), soon());
        CHECK_FALSE(ec);
        CHECK(r.body == "/" + std::to_string(i));
        ++done;
      }, asio::detached);
    }
    asio::steady_timer t(ex);
    while (done < 6) {
      t.expires_after(5ms);
      co_await t.async_wait(asio::use_awaitable);
    }
  }, [&] { srv.stop(); });
  CHECK(done == 6);
  CHECK(srv.connections() == 2);
  CHECK(srv.requests() == 6);
}

TEST_CASE("gzip end to end, streaming sink and a stale pooled connection") {
  std::string payload(100000, 'x');
  for (std::size_t i = 0; i < payload.size(); i += 7) payload[i] = static_cast<char>('a' + i % 26);
  std::string z(compressBound(static_cast<uLong>(payload.size())) + 64, '\0');
  {
    z_stream s{};
    deflateInit2(&s, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    s.next_in = reinterpret_cast<Bytef*>(payload.data());
    s.avail_in = static_cast<uInt>(payload.size());
    s.next_out = reinterpret_cast<Bytef*>(z.data());
    s.avail_out = static_cast<uInt>(z.size());
    deflate(&s, Z_FINISH);
    z.resize(s.total_out);
    deflateEnd(&s);
  }
  asio::io_context io;
  test::server srv(io, [&](const received& r) -> reply {
    if (r.target == "/gz") return test::ok(z, {"Content-Encoding: gzip"});
    // A reused connection that the server has given up on: closed without an answer.
    if (r.index_on_connection > 0) return test::raw("", true);
    return test::ok("ok");
  });
  client c(io.get_executor(), fast_options());
  test::run(io, [&]() -> asio::awaitable<void> {
    auto [e1, r1] = co_await c.async_request(get(srv.url("/gz")), soon());
    CHECK_FALSE(e1);
    CHECK(r1.body == payload);
    std::string streamed;
    std::size_t chunks = 0;
    auto [e2, r2] = co_await c.async_request(get(srv.url("/gz")), soon(), [&](std::string_view s) {
      streamed.append(s);
      ++chunks;
      return std::error_code{};
    });
    CHECK_FALSE(e2);
    CHECK(r2.body.empty());
    CHECK(streamed == payload);
    CHECK(chunks >= 2);
    auto [e3, r3] = co_await c.async_request(get(srv.url("/stale")), soon());
    CHECK_FALSE(e3);  // retried once on a fresh connection
    CHECK(r3.body == "ok");
  }, [&] { srv.stop(); });
  CHECK(srv.connections() == 2);  // /gz twice on one connection, /stale dropped there, then a fresh one
  CHECK(srv.requests() == 4);
}

TEST_CASE("debug request logs redact Authorization") {
  capture_sink sink;
  log::set_sink(&sink);
  log::configure(log::level::debug, log::format::json);
  asio::io_context io;
  test::server srv(io, [](const received&) { return test::ok("{}"); });
  client c(io.get_executor(), fast_options());
  test::run(io, [&]() -> asio::awaitable<void> {
    auto r = get(srv.url("/users"));
    r.headers.push_back({"Authorization", "Bearer very-secret-token"});
    auto [ec, resp] = co_await c.async_request(r, soon());
    CHECK_FALSE(ec);
  }, [&] { srv.stop(); });
  log::configure(log::level::info, log::format::json);
  log::set_sink(nullptr);
  CHECK(sink.text.find("http request") != std::string::npos);
  CHECK(sink.text.find("very-secret-token") == std::string::npos);
  REQUIRE(srv.log().size() == 1);
  CHECK(srv.log()[0].head.find("Authorization: Bearer very-secret-token") != std::string::npos);
}

TEST_CASE("TLS: verification against a self-signed loopback server") {
  test::test_cert cert("localhost");
  auto server_ctx = test::server_tls_context(cert);
  asio::io_context io;
  test::server srv(io, [](const received&) { return test::ok("secure"); }, server_ctx.get());
  auto u = srv.url("/", "localhost");

  CHECK_THROWS_WITH_AS(
      [&] {
        auto o = fast_options();
        o.ca_file = "/nonexistent/ca.pem";
        client bad(io.get_executor(), o);
      }(),
      doctest::Contains("/nonexistent/ca.pem"), std::runtime_error);

  client def(io.get_executor(), fast_options());
  auto with_ca = fast_options();
  with_ca.ca_file = cert.cert_file;
  client trusted(io.get_executor(), with_ca);
  test::run(io, [&]() -> asio::awaitable<void> {
    auto [e1, r1] = co_await def.async_request(get(u), soon());
    CHECK(e1 == errc::tls_failed);
    CHECK(r1.error_detail.find("certificate") != std::string::npos);
    auto [e2, r2] = co_await trusted.async_request(get(u), soon());
    CHECK_FALSE(e2);
    CHECK(r2.body == "secure");
    // Right CA, wrong name: the cert is for "localhost", not 127.0.0.1.
    auto [e3, r3] = co_await trusted.async_request(get(srv.url("/", "127.0.0.1")), soon());
    CHECK(e3 == errc::tls_failed);
    CHECK(r3.error_detail.find("mismatch") != std::string::npos);
  }, [&] { srv.stop(); });
}

TEST_CASE("async_request_with_retry") {
  asio::io_context io;
  int calls_429 = 0, calls_503 = 0, calls_trunc = 0, calls_bad = 0;
  test::server srv(io, [&](const received& r) -> reply {
    if (r.target == "/429") {
      if (calls_429++ == 0) return test::status(429, "{\"errors\":[]}", {"Retry-After: 0"});
      return test::ok("[1]");
    }
    if (r.target == "/503") {
      if (calls_503++ < 3) return test::status(503, "<html>busy</html>");
      return test::ok("[2]");
    }
    if (r.target == "/trunc") {
      if (calls_trunc++ == 0) return test::raw("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n[3,", true);
      return test::ok("[3]");
    }
    if (r.target == "/bad") {
      if (calls_bad++ == 0) return test::ok("[4,");
      return test::ok("[4]");
    }
    if (r.target == "/401") return test::status(401, "{}");
    return test::status(404);
  });
  client c(io.get_executor(), fast_options());
  retry_policy policy;
  policy.base_delay = 1ms;
  policy.rate_limit_base = 2ms;
  policy.seed = 7;
  adaptive_limiter lim(io.get_executor(), [] { limiter_options o; o.max_concurrency = 4; return o; }());
  retry_stats stats;
  auto validate = [](const response& r) -> std::error_code {
    return r.body.ends_with("]") ? std::error_code{} : make_error_code(errc::protocol_error);
  };
  test::run(io, [&]() -> asio::awaitable<void> {
    auto [e1, r1] = co_await async_request_with_retry(c, get(srv.url("/429")), soon(), policy, &lim, stats, validate);
    CHECK_FALSE(e1);
    CHECK(r1.body == "[1]");
    CHECK(lim.limit() == 2);  // halved by the 429, then +1/2 by the success
    auto [e2, r2] = co_await async_request_with_retry(c, get(srv.url("/503")), soon(), policy, &lim, stats, validate);
    CHECK_FALSE(e2);
    CHECK(r2.body == "[2]");
    auto [e3, r3] = co_await async_request_with_retry(c, get(srv.url("/trunc")), soon(), policy, &lim, stats, validate);
    CHECK_FALSE(e3);
    CHECK(r3.body == "[3]");
    auto [e4, r4] = co_await async_request_with_retry(c, get(srv.url("/bad")), soon(), policy, &lim, stats, validate);
    CHECK_FALSE(e4);
    CHECK(r4.body == "[4]");
    auto [e5, r5] = co_await async_request_with_retry(c, get(srv.url("/401")), soon(), policy, &lim, stats, validate);
    CHECK_FALSE(e5);
    CHECK(r5.status == 401);
    auto [e6, r6] = co_await async_request_with_retry(c, get(srv.url("/404")), soon(), policy, nullptr, stats, validate);
    CHECK(r6.status == 404);
    // Out of attempts: the last 503 comes back.
    calls_503 = 0;
    retry_policy two = policy;
    two.max_attempts = 2;
    auto [e7, r7] = co_await async_request_with_retry(c, get(srv.url("/503")), soon(), two, &lim, stats, validate);
    CHECK_FALSE(e7);
    CHECK(r7.status == 503);
  }, [&] { srv.stop(); });
  CHECK(calls_429 == 2);
  CHECK(calls_trunc == 2);
  CHECK(stats.rate_limited == 1);
  CHECK(stats.server_errors == 5);
  CHECK(stats.bad_bodies == 1);
  CHECK(stats.auth_failures == 1);
  CHECK(stats.transport_errors == 1);
  CHECK(stats.attempts == 2 + 4 + 2 + 2 + 1 + 1 + 2);
  CHECK(stats.retries == 1 + 3 + 1 + 1 + 1);
  CHECK(lim.in_use() == 0);
}

}  // namespace bp::net
