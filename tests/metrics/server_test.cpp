#include "baton_percipio/metrics/server.hpp"

#include <doctest/doctest.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using bp::metrics::metrics_server;
using bp::metrics::registry;

namespace {

// The metrics server on its own io_context thread, so the blocking client can run on this one.
struct bg_metrics {
  explicit bg_metrics(const registry& reg)
      : srv(ctx.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, reg),
        guard(asio::make_work_guard(ctx)),
        thread([this] { ctx.run(); }) {}
  ~bg_metrics() {
    srv.stop();
    guard.reset();
    thread.join();
  }
  asio::io_context ctx;
  metrics_server srv;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::thread thread;
};

struct reply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// One request on a fresh connection with "Connection: close"; reads until the server closes.
reply fetch(std::uint16_t port, std::string_view path, std::string_view method = "GET") {
  asio::io_context ctx;
  asio::ip::tcp::socket sock(ctx);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  std::string req = std::string(method) + " " + std::string(path) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(sock, asio::buffer(req));
  std::string raw;
  std::error_code ec;
  asio::read(sock, asio::dynamic_buffer(raw), ec);
  REQUIRE(ec == asio::error::eof);
  reply r;
  auto end = raw.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  r.head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  REQUIRE(r.head.starts_with("HTTP/1.1 "));
  r.status = std::stoi(r.head.substr(9, 3));
  return r;
}

}  // namespace

TEST_CASE("server: /metrics serves the registry as Prometheus text") {
  registry reg;
  reg.sync_started();
  reg.add_request();
  reg.add_rate_limited();
  bg_metrics m(reg);
  auto r = fetch(m.srv.port(), "/metrics");
  CHECK(r.status == 200);
  CHECK(r.head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(r.head.find("Content-Length: " + std::to_string(r.body.size()) + "\r\n") != std::string::npos);
  CHECK(r.body == reg.render());
  CHECK(r.body.find("baton_percipio_rate_limited_total 1\n") != std::string::npos);
  CHECK(r.body.find("baton_percipio_sync_in_progress 1\n") != std::string::npos);

  // Values are read at scrape time.
  reg.sync_succeeded(3s, {.users = 7});
  auto r2 = fetch(m.srv.port(), "/metrics");
  CHECK(r2.body.find("baton_percipio_records{type=\"user\"} 7\n") != std::string::npos);
  CHECK(r2.body.find("baton_percipio_sync_in_progress 0\n") != std::string::npos);
}

TEST_CASE("server: /healthz always answers ok") {
  registry reg;
  bg_metrics m(reg);
  auto r = fetch(m.srv.port(), "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == "ok");
}

TEST_CASE("server: /readyz follows the registry") {
  registry reg;
  bg_metrics m(reg);
  auto before = fetch(m.srv.port(), "/readyz");
  CHECK(before.status == 503);
  CHECK(before.body.starts_with("not ready"));

  reg.sync_started();
  reg.sync_failed(1s);
  CHECK(fetch(m.srv.port(), "/readyz").status == 503);

  SUBCASE("after a successful sync") {
    reg.sync_started();
    reg.sync_succeeded(1s, {});
    auto after = fetch(m.srv.port(), "/readyz");
    CHECK(after.status == 200);
    CHECK(after.body == "ready");
    reg.sync_started();
    reg.sync_failed(1s);
    CHECK(fetch(m.srv.port(), "/readyz").status == 200);
  }
  SUBCASE("while a previous good file exists") {
    reg.set_good_file_present(true);
    CHECK(fetch(m.srv.port(), "/readyz").status == 200);
  }
}

TEST_CASE("server: unknown paths 404, other methods 405") {
  registry reg;
  bg_metrics m(reg);
  CHECK(fetch(m.srv.port(), "/").status == 404);
  CHECK(fetch(m.srv.port(), "/metrics/x").status == 404);
  auto r = fetch(m.srv.port(), "/metrics", "DELETE");
  CHECK(r.status == 405);
  CHECK(r.head.find("Allow: GET\r\n") != std::string::npos);
}

TEST_CASE("server: keep-alive scrapes on one connection") {
  registry reg;
  bg_metrics m(reg);
  asio::io_context ctx;
  asio::ip::tcp::socket sock(ctx);
  sock.connect({asio::ip::make_address("127.0.0.1"), m.srv.port()});
  std::string buf;
  for (int i = 0; i < 3; ++i) {
    asio::write(sock, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")));
    std::size_t n = asio::read_until(sock, asio::dynamic_buffer(buf), "\r\n\r\n");
    std::string head = buf.substr(0, n);
    buf.erase(0, n);
    CHECK(head.starts_with("HTTP/1.1 200 "));
    REQUIRE(head.find("Content-Length: 2\r\n") != std::string::npos);
    if (buf.size() < 2) asio::read(sock, asio::dynamic_buffer(buf), asio::transfer_exactly(2 - buf.size()));
    CHECK(buf.substr(0, 2) == "ok");
    buf.erase(0, 2);
  }
}

TEST_CASE("start_metrics_server: errors are values") {
  registry reg;
  asio::io_context ctx;
  std::error_code ec;
  auto first = bp::metrics::start_metrics_server(ctx.get_executor(), "127.0.0.1", 0, reg, ec);
  REQUIRE(first);
  CHECK_FALSE(ec);
  auto clash = bp::metrics::start_metrics_server(ctx.get_executor(), "127.0.0.1", first->port(), reg, ec);
  CHECK_FALSE(clash);
  CHECK(ec == asio::error::address_in_use);
  first->stop();
}

TEST_CASE("listen_endpoint: empty host means all IPv4 interfaces; literals and localhost") {
  std::error_code ec;
  auto any = bp::metrics::listen_endpoint("", 9090, ec);
  REQUIRE(any);
  CHECK(any->address() == asio::ip::address_v4::any());
  CHECK(any->port() == 9090);
  auto v6 = bp::metrics::listen_endpoint("::1", 1, ec);
  REQUIRE(v6);
  CHECK(v6->address().is_v6());
  auto lh = bp::metrics::listen_endpoint("localhost", 2, ec);
  REQUIRE(lh);
  CHECK(lh->address().is_loopback());
}
