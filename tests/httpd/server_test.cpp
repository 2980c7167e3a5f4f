#include "baton_percipio/httpd/server.hpp"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <optional>
#include <thread>

#include "httpd/raw_client.hpp"

namespace {

using namespace bp::httpd;

// The server on its own io_context thread, so the blocking test client can run on this one.
struct bg_server {
  explicit bg_server(handler h, server_options o = {})
      : srv(ctx.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, std::move(h), o),
        guard(asio::make_work_guard(ctx)),
        thread([this] { ctx.run(); }) {}
  ~bg_server() {
    srv.stop();
    guard.reset();
    thread.join();
  }
  asio::io_context ctx;
  server srv;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::thread thread;
};

// Built outside coroutines: GCC 12 mis-compiles braced string literals inside co_await expressions.
header_list plain() { return {{"Content-Type", "text/plain"}}; }
header_list json_ct() { return {{"Content-Type", "application/json"}}; }

asio::awaitable<void> echo(const request& req, response_writer& w) {
  std::string body = req.method + " " + req.path + " q=" + req.query + " b=" + req.body +
                     " h=" + std::string(req.header_value("x-test"));
  co_await w.async_send(200, plain(), body);
}

}  // namespace

TEST_CASE("parser: a request split at every byte parses the same") {
  const std::string raw =
      "POST /a/b?x=1&y= HTTP/1.1\r\nHost: h\r\nX-Test: v1\r\nContent-Length: 5\r\n\r\nhello";
  for (std::size_t split = 0; split <= raw.size(); ++split) {
    request_parser p;
    auto r1 = p.feed(std::string_view(raw).substr(0, split));
    auto r2 = p.feed(std::string_view(raw).substr(split));
    CHECK(r1.st != request_parser::state::error);
    REQUIRE(r2.st == request_parser::state::complete);
    CHECK(p.current().method == "POST");
    CHECK(p.current().path == "/a/b");
    CHECK(p.current().query == "x=1&y=");
    CHECK(p.current().header_value("x-TEST") == "v1");
    CHECK(p.current().body == "hello");
    CHECK(p.current().keep_alive);
  }
}

TEST_CASE("parser: pipelined requests are handed over one at a time") {
  const std::string raw = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  request_parser p;
  auto r = p.feed(raw);
  REQUIRE(r.st == request_parser::state::complete);
  CHECK(p.current().path == "/1");
  p.next();
  auto r2 = p.feed(std::string_view(raw).substr(r.consumed));
  REQUIRE(r2.st == request_parser::state::complete);
  CHECK(p.current().path == "/2");
  CHECK_FALSE(p.current().keep_alive);
}

TEST_CASE("parser: limits and malformed input") {
  request_parser small({.max_header_bytes = 64, .max_body_bytes = 4});
  auto r = small.feed("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n");
  CHECK(r.st == request_parser::state::error);
  CHECK(small.error_status() == 431);

  request_parser body({.max_header_bytes = 1024, .max_body_bytes = 4});
  CHECK(body.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n").st == request_parser::state::error);
  CHECK(body.error_status() == 413);

  request_parser chunked({.max_header_bytes = 1024, .max_body_bytes = 4});
  CHECK(chunked.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n").st ==
        request_parser::state::error);
  CHECK(chunked.error_status() == 413);

  request_parser bad;
  CHECK(bad.feed("NOT HTTP AT ALL\r\n\r\n").st == request_parser::state::error);
  CHECK(bad.error_status() == 400);
}

TEST_CASE("query parsing keeps empty values and decodes") {
  auto q = parse_query("a=1&pagingRequestId=&b=x%20y+z&flag");
  REQUIRE(q.size() == 4);
  CHECK(q[1].name == "pagingRequestId");
  CHECK(q[1].value.empty());
  CHECK(q[2].value == "x y z");
  CHECK(q[3].name == "flag");
}

TEST_CASE("server: keep-alive and pipelining on one connection") {
  bg_server s(echo);
  bp::test::raw_client c(s.srv.port());
  auto r1 = c.get("/one?x=1", "X-Test: a\r\n");
  REQUIRE(r1.complete);
  CHECK(r1.status == 200);
  CHECK(r1.body == "GET /one q=x=1 b= h=a");
  auto r2 = c.post("/two", "{}");
  CHECK(r2.body == "POST /two q= b={} h=");
  c.send("GET /p1 HTTP/1.1\r\nHost: h\r\n\r\nGET /p2 HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(c.read_response().body == "GET /p1 q= b= h=");
  CHECK(c.read_response().body == "GET /p2 q= b= h=");
  auto r3 = c.get("/last", "Connection: close\r\n");
  CHECK(r3.header("connection") == "close");
  CHECK(c.closed_by_peer());
}

TEST_CASE("server: streamed responses, chunked and with Content-Length") {
  bg_server s([](const request& req, response_writer& w) -> asio::awaitable<void> {
    std::optional<std::uint64_t> len;
    if (req.path == "/cl") len = 10 * 1000;
    co_await w.async_begin(200, json_ct(), len);
    for (int i = 0; i < 10; ++i) {
      if (!co_await w.async_write_body(std::string(1000, static_cast<char>('a' + i)))) co_return;
    }
    co_await w.async_finish();
  });
  bp::test::raw_client c(s.srv.port());
  auto r = c.get("/chunked");
  REQUIRE(r.complete);
  CHECK(r.chunks == 10);
  CHECK(r.body.size() == 10000);
  CHECK(r.body.substr(9000) == std::string(1000, 'j'));
  auto r2 = c.get("/cl");
  REQUIRE(r2.complete);
  CHECK(r2.chunks == 0);
  CHECK(r2.header("content-length") == "10000");
  CHECK(r2.body.size() == 10000);
}

TEST_CASE("server: close after K bytes, raw bytes, abort") {
  bg_server s([](const request& req, response_writer& w) -> asio::awaitable<void> {
    if (req.path == "/cut") {
      w.close_after(150);
      co_await w.async_begin(200, {}, std::nullopt);
      while (co_await w.async_write_body(std::string(100, 'x'))) {
      }
    } else if (req.path == "/raw") {
      co_await w.async_write_raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
      w.abort();
    } else {
      w.abort();
    }
  });
  {
    bp::test::raw_client c(s.srv.port());
    auto r = c.get("/cut");
    CHECK(r.eof);
    CHECK_FALSE(r.complete);
    CHECK(r.raw_bytes == 150);
  }
  {
    bp::test::raw_client c(s.srv.port());
    auto r = c.get("/raw");
    CHECK(r.complete);
    CHECK(r.body == "hi");
    CHECK(c.closed_by_peer());
  }
  {
    bp::test::raw_client c(s.srv.port());
    auto r = c.get("/abort");
    CHECK(r.eof);
    CHECK(r.status == 0);
  }
}

TEST_CASE("server: handler errors, bad requests and limits answer with a status") {
  server_options o;
  o.limits.max_body_bytes = 8;
  bg_server s([](const request& req, response_writer&) -> asio::awaitable<void> {
    if (req.path == "/throw") throw std::runtime_error("boom");
    co_return;  // no response at all
  }, o);
  {
    bp::test::raw_client c(s.srv.port());
    CHECK(c.get("/throw").status == 500);
  }
  {
    bp::test::raw_client c(s.srv.port());
    CHECK(c.get("/nothing").status == 500);
  }
  {
    bp::test::raw_client c(s.srv.port());
    CHECK(c.post("/big", "0123456789").status == 413);
  }
  {
    bp::test::raw_client c(s.srv.port());
    c.send("BLAH\r\n\r\n");
    CHECK(c.read_response().status == 400);
  }
}

TEST_CASE("server: idle timeout closes a silent connection; delayed handlers still answer") {
  server_options o;
  o.idle_timeout = std::chrono::milliseconds(50);
  bg_server s([](const request&, response_writer& w) -> asio::awaitable<void> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    co_await t.async_wait(asio::use_awaitable);  // longer than the idle timeout: must not cut it
    co_await w.async_send(200, {}, "late");
  }, o);
  bp::test::raw_client idle(s.srv.port());
  CHECK(idle.closed_by_peer());
  bp::test::raw_client c(s.srv.port());
  CHECK(c.get("/").body == "late");
}

TEST_CASE("server: stop closes stalled connections") {
  auto s = std::make_unique<bg_server>([](const request&, response_writer& w) -> asio::awaitable<void> {
    co_await w.async_begin(200, {}, std::nullopt);
    co_await w.async_wait_closed();
  });
  bp::test::raw_client c(s->srv.port());
  c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  char buf[256];
  std::error_code ec;
  std::size_t n = c.recv_some(buf, sizeof buf, ec);  // the headers arrive, then nothing
  CHECK(n > 0);
  CHECK(s->srv.open_connections() == 1);
  s.reset();
  CHECK(c.closed_by_peer());
}

TEST_CASE("server: stop drains the context even while a handler waits on something only cancellation ends") {
  auto s = std::make_unique<bg_server>([](const request&, response_writer&) -> asio::awaitable<void> {
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await forever.async_wait(asio::use_awaitable);  // throws operation_aborted when cancelled
  });
  bp::test::raw_client c(s->srv.port());
  c.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  // Wait until the session exists (the request reached the handler's wait).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s->srv.open_connections() == 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  REQUIRE(s->srv.open_connections() == 1);
  s.reset();  // stop(), then the io thread is joined: it returns only once every session ended
  CHECK(c.closed_by_peer());
}
