// api_client against the fake Percipio server (bp::fixture) on a loopback port: completeness of
// every list, paging-id rules, rate limiting, injected faults and report shapes.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <set>
#include <string>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/generated_tenant.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/percipio/api_client.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames in lambdas.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace bp::percipio;
namespace fx = bp::fixture;

namespace {

const bool quiet_logs = [] {
  bp::log::configure(bp::log::level::error, bp::log::format::console);
  return true;
}();

std::shared_ptr<fx::generated_tenant> tenant(std::uint64_t users, std::uint64_t items, std::uint64_t rows) {
  fx::generator_config g;
  g.users = users;
  g.catalog_items = items;
  g.report_rows = rows;
  g.seed = 3;
  return std::make_shared<fx::generated_tenant>(g);
}

client_config config_for(const fx::background_server& s) {
  client_config c;
  c.base_url = s.base_url();
  c.org_id = fx::demo_org_id;
  c.token = fx::demo_token;
  c.concurrency = 4;
  c.rate_limit = {};
  c.retry.max_attempts = 8;
  c.retry.base_delay = std::chrono::milliseconds(1);
  c.retry.max_delay = std::chrono::milliseconds(4);
  c.retry.rate_limit_base = std::chrono::milliseconds(1);
  c.retry.max_retry_after = std::chrono::milliseconds(5);
  c.retry.seed = 11;
  c.poll_initial = std::chrono::milliseconds(1);
  c.poll_max = std::chrono::milliseconds(4);
  return c;
}

// Runs body on a fresh io_context (the server has its own thread).
template <class F>
void run(F body) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr err;
  asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
    err = e;
    done = true;
  });
  io.run_for(std::chrono::seconds(20));
  REQUIRE_MESSAGE(done, "client coroutine did not finish");
  if (err) std::rethrow_exception(err);
}

bp::deadline soon() { return bp::steady_clock::now() + std::chrono::seconds(15); }

struct sync_result {
  std::multiset<std::string> users, items;
  std::uint64_t rows = 0, skipped = 0, delivered = 0;
  std::optional<failure> users_err, catalog_err, report_err;
  api_counters counters;
};

sync_result full_sync(client_config cfg, bp::net::client_options http_opts = {}) {
  sync_result out;
  run([&](asio::io_context& io) -> asio::awaitable<void> {
    bp::net::client http(io.get_executor(), http_opts);
    api_client c(io.get_executor(), http, cfg);
    auto u = co_await c.async_list_users(soon(), [&](std::vector<user>&& p) -> asio::awaitable<void> {
      for (auto& x : p) out.users.insert(x.id);
      co_return;
    });
    if (!u) out.users_err = u.error();
    auto k = co_await c.async_list_catalog(soon(), [&](std::vector<content_item>&& p) -> asio::awaitable<void> {
      for (auto& x : p) out.items.insert(x.id);
      co_return;
    });
    if (!k) out.catalog_err = k.error();
    auto r = co_await c.async_report(soon(), [&](std::span<const report_row> rows) -> asio::awaitable<void> {
      out.delivered += rows.size();
      co_return;
    });
    if (r) {
      out.rows = r->rows;
      out.skipped = r->skipped_rows;
    } else {
      out.report_err = r.error();
    }
    out.counters = c.counters();
    http.close_idle();
  });
  return out;
}

void check_complete(const sync_result& r, const fx::generated_tenant& t) {
  REQUIRE_MESSAGE(!r.users_err, r.users_err->message);
  REQUIRE_MESSAGE(!r.catalog_err, r.catalog_err->message);
  REQUIRE_MESSAGE(!r.report_err, r.report_err->message);
  CHECK(r.users.size() == t.user_count());
  std::set<std::string> distinct(r.users.begin(), r.users.end());
  CHECK(distinct.size() == t.distinct_user_count());
  for (std::uint64_t i = 0; i < t.user_count(); ++i) CHECK(distinct.count(t.user_id(i)) == 1);
  CHECK(r.items.size() == t.catalog_count());
  for (std::uint64_t i = 0; i < t.catalog_count(); ++i) CHECK(r.items.count(t.catalog_item(i).id) == 1);
  CHECK(r.rows + r.skipped == t.report_row_count());
  CHECK(r.delivered >= r.rows);
}

}  // namespace

TEST_CASE("fixture: full sync is complete; no blank paging id; concurrency cap kept") {
  auto t = tenant(2345, 2100, 5000);
  fx::background_server s(t);
  auto r = full_sync(config_for(s));
  check_complete(r, *t);
  CHECK(s.log().blank_paging_id_count() == 0);
  CHECK(s.log().max_in_flight() <= 4);
  // Every page fetched exactly once.
  for (auto [off, n] : s.log().offsets(fx::endpoint::users)) CHECK_MESSAGE(n == 1, "users offset " << off);
  for (auto [off, n] : s.log().offsets(fx::endpoint::catalog)) CHECK_MESSAGE(n == 1, "catalog offset " << off);
  CHECK(s.log().offsets(fx::endpoint::users).size() == 3);
  CHECK(s.log().offsets(fx::endpoint::catalog).size() == 3);
}

TEST_CASE("fixture: paging headers missing, mixed case, gzip") {
  auto t = tenant(2000, 2000, 300);
  fx::options o;
  o.users_total_count = fx::total_count_mode::omit;
  o.catalog_total_count = fx::total_count_mode::not_a_number;
  o.catalog_link = fx::link_mode::never;
  o.mixed_case_headers = true;
  o.gzip = true;
  fx::background_server s(t, o);
  auto r = full_sync(config_for(s));
  check_complete(r, *t);
  CHECK(s.log().blank_paging_id_count() == 0);
}

TEST_CASE("fixture: 429 storm from the rate limit, 5xx bursts, cut pages") {
  auto t = tenant(3100, 1500, 2000);
  fx::options o;
  // Three requests start together (users page 0, catalog page 0, report POST) against a burst of 2
  // refilled every 200 ms: at least one 429 however fast or slow the build is.
  o.rate_limit_rps = 5;
  o.rate_limit_burst = 2;
  o.retry_after = fx::retry_after_mode::absent;
  for (const char* f : {"users:503:n=1-2", "catalog:502:n=2", "users:malformed:n=3", "catalog:empty:n=1",
                        "report-poll:500:n=1"}) {
    auto rule = fx::parse_fault(f);
    REQUIRE(rule);
    o.faults.push_back(*rule);
  }
  fx::background_server s(t, o);
  auto cfg = config_for(s);
  cfg.retry.max_attempts = 30;
  cfg.retry.rate_limit_base = std::chrono::milliseconds(50);  // waits long enough for the bucket to refill
  cfg.retry.max_delay = std::chrono::milliseconds(200);
  auto r = full_sync(cfg);
  check_complete(r, *t);
  CHECK(r.counters.rate_limited > 0);
  CHECK(r.counters.retries > 0);
}

TEST_CASE("fixture: connections closed before any byte, slow bodies, a body slower than the idle timeout") {
  auto t = tenant(2500, 1200, 3000);
  fx::options o;
  for (const char* f : {"users:close:n=1", "catalog:close:n=2", "report-poll:close:n=1",
                        "catalog:slow:n=1:bytes=4000:ms=2", "report-download:slow:n=1:bytes=20000:ms=2",
                        "users:slow:n=3:bytes=200:ms=400"}) {
    std::string err;
    auto rule = fx::parse_fault(f, &err);
    REQUIRE_MESSAGE(rule, err);
    o.faults.push_back(*rule);
  }
  fx::background_server s(t, o);
  bp::net::client_options http;
  http.t.idle_read = std::chrono::milliseconds(150);  // the 400 ms pauses of users request 3 exceed it
  auto r = full_sync(config_for(s), http);
  check_complete(r, *t);
  // The users page that stalls past the idle timeout and the pages whose connection closed were
  // retried (a close on a reused connection is retried inside the client, without a count).
  CHECK(r.counters.retries >= 2);
  std::size_t slow = 0, closed = 0;
  for (const auto& e : s.log().entries()) {
    slow += e.fault == "slow";
    closed += e.fault == "close";
  }
  CHECK(slow == 3);
  CHECK(closed == 3);
}

TEST_CASE("fixture: X-RateLimit-Remaining 0 on a success holds the client until the reset: no 429") {
  auto t = tenant(3100, 1500, 2000);
  fx::options o;
  // One token, refilled every 250 ms; the sync needs about ten requests, each answered in far less
  // than 250 ms even under sanitizers: without the headers, 429s.
  o.rate_limit_rps = 4;
  o.rate_limit_burst = 1;
  o.rate_limit_headers = true;
  fx::background_server s(t, o);
  auto cfg = config_for(s);
  cfg.concurrency = 1;  // one request at a time: each answer's quota is known before the next
  auto r = full_sync(cfg);
  check_complete(r, *t);
  CHECK(r.counters.rate_limited == 0);
  std::size_t limited = 0;
  for (const auto& e : s.log().entries()) limited += e.status == 429;
  CHECK(limited == 0);

  // The same without the headers: the client learns only from 429s.
  fx::options plain = o;
  plain.rate_limit_headers = false;
  fx::background_server s2(t, plain);
  auto cfg2 = config_for(s2);
  cfg2.concurrency = 1;
  auto r2 = full_sync(cfg2);
  check_complete(r2, *t);
  CHECK(r2.counters.rate_limited > 0);
}

TEST_CASE("fixture: truncated report download, then success with the same GET") {
  auto t = tenant(50, 50, 20000);
  fx::options o;
  auto rule = fx::parse_fault("report-download:truncate:n=1:bytes=3000000");
  REQUIRE(rule);
  o.faults.push_back(*rule);
  fx::background_server s(t, o);
  auto r = full_sync(config_for(s));
  check_complete(r, *t);
  CHECK(s.log().count(fx::endpoint::report_request) == 1);
  CHECK(r.delivered > r.rows);  // rows before the cut were delivered twice
}

TEST_CASE("fixture: report FAILED and wrong token") {
  auto t = tenant(10, 10, 10);
  fx::options o;
  o.report_failed = true;
  fx::background_server s(t, o);
  auto r = full_sync(config_for(s));
  REQUIRE(r.report_err);
  CHECK(r.report_err->code == errc::report_failed);

  fx::background_server s2(t);
  auto cfg = config_for(s2);
  cfg.token = "not-the-token";
  auto w = full_sync(cfg);
  REQUIRE(w.users_err);
  CHECK(w.users_err->code == errc::auth_failed);
  CHECK(w.users_err->message.find("not-the-token") == std::string::npos);
  REQUIRE(w.report_err);
  CHECK(w.report_err->code == errc::auth_failed);
}

TEST_CASE("fixture: a client budget equal to the server's window (N per DURATION) gets no 429") {
  auto t = tenant(3100, 1500, 2000);  // about ten requests: more than three windows' worth
  fx::options o;
  o.rate_window_requests = 3;
  o.rate_window = std::chrono::milliseconds(150);
  fx::background_server s(t, o);
  auto cfg = config_for(s);
  cfg.rate_limit = {3, std::chrono::milliseconds(150)};
  auto r = full_sync(cfg);
  check_complete(r, *t);
  CHECK(r.counters.rate_limited == 0);
  std::size_t limited = 0;
  for (const auto& e : s.log().entries()) limited += e.status == 429;
  CHECK(limited == 0);
  CHECK(s.log().entries().size() > 6);
}
