// Fail-at-step-N and cancel-at-step-N: a small tenant (3 users pages, 2 catalog pages, the report)
// behind a scripted proxy, in the usual order and with the users pages taken in after the report
// (grants written before the users list ends, as on paced syncs of large tenants). For every request index k, request k gets one fault; or a stop request
// arrives while request k (and everything after it) stalls. The sync either writes exactly the
// expected records or fails with its documented kind, never crashes (run under ASan/UBSan in CI),
// never hangs, and never leaves a half-written or temporary file.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/sync/run.hpp"
#include "helpers.hpp"
#include "scripted_server.hpp"

using namespace bp::hardening;
namespace fx = bp::fixture;
using bp::sync::failure_kind;
using bp::sync::sync_error;
using clock_type = std::chrono::steady_clock;

namespace {

enum class fault { status_500, status_503, reset, truncated, stall };
const char* name_of(fault f) {
  switch (f) {
    case fault::status_500: return "500";
    case fault::status_503: return "503";
    case fault::reset: return "reset";
    case fault::truncated: return "truncated body";
    case fault::stall: return "stall";
  }
  return "?";
}

// 60 users in pages of 20 (3 pages), 40 catalog items (2 pages), the report.
std::shared_ptr<fx::generated_tenant> matrix_tenant() { return small_tenant(60, 40, 300); }

bp::sync::options matrix_options(const std::string& base_url, const fs::path& dest) {
  auto o = fast_options(base_url, dest);
  o.api.concurrency = 2;
  o.api.retry.max_attempts = 2;  // one fault is retried; the matrix also sees failures via POST
  o.http.t.first_byte = std::chrono::milliseconds(300);  // a stall costs one timeout
  o.http.t.idle_read = std::chrono::milliseconds(300);
  o.sync_timeout = std::chrono::seconds(20);
  return o;
}

void apply_fault(fault f, const http_request& req, connection& c, std::uint16_t upstream) {
  switch (f) {
    case fault::status_500: c.write(response(500, R"({"message":"internal"})")); return;
    case fault::status_503: c.write(response(503, "Service Unavailable")); return;
    case fault::reset: return;  // closed before any response byte
    case fault::truncated: {
      const std::string full = forward(upstream, req);
      const auto body = body_offset(full);
      c.write(std::string_view(full).substr(0, body == std::string::npos ? full.size() / 2
                                                                          : body + (full.size() - body) / 2));
      return;
    }
    case fault::stall: c.hang(); return;
  }
}

// Requests of one clean sync through the proxy (the matrix covers each of them and one more).
std::size_t clean_request_count(const fx::background_server& up) {
  const std::uint16_t port = up.port();
  scripted_server px([=](std::size_t, const http_request& req, connection& c) { c.write(forward(port, req)); });
  scratch_dir dir;
  bp::sync::run_sync(matrix_options(px.base_url(), dir / "clean.c1z"));
  return px.requests();
}

}  // namespace

TEST_CASE("fail at step N: every request index with every fault ends in exact content or a documented failure") {
  auto t = matrix_tenant();
  fx::options fo;
  fo.pending_polls = 1;
  fx::background_server up(t, fo);
  const std::size_t steps = clean_request_count(up);
  REQUIRE(steps >= 7);  // 3 users pages, 2 catalog pages, POST, at least one poll
  const std::uint16_t port = up.port();
  for (fault f : {fault::status_500, fault::status_503, fault::reset, fault::truncated, fault::stall}) {
    for (std::size_t n = 0; n <= 2 * steps + 1; ++n) {
      const std::size_t k = n % (steps + 1);
      // The second round takes the users pages in after the report, with the faults that end a
      // request in the two ways (an answer, a timeout).
      const bool users_last = n > steps;
      if (users_last && f != fault::status_500 && f != fault::stall) break;
      CAPTURE(name_of(f));
      CAPTURE(k);
      CAPTURE(users_last);
      scripted_server px([=](std::size_t i, const http_request& req, connection& c) {
        if (i == k) return apply_fault(f, req, c, port);
        c.write(forward(port, req));
      });
      scratch_dir dir;
      write_file(dir / "out.c1z", "previous good file");
      auto o = matrix_options(px.base_url(), dir / "out.c1z");
      o.users_after_report = users_last;
      const auto t0 = clock_type::now();
      try {
        auto s = bp::sync::run_sync(o);
        check_matches_expected(s, *t, dir / "out.c1z");
        if (users_last) CHECK(s.grants_before_users);
      } catch (const sync_error& e) {
        // A non-retried POST (500) or a fault that used up the attempts: an upstream failure (exit 4).
        CHECK_MESSAGE(e.kind() == failure_kind::upstream, e.what());
        CHECK(read_file(dir / "out.c1z") == "previous good file");
      }
      CHECK(clock_type::now() - t0 < o.sync_timeout);
      CHECK(temp_leftovers(dir.path()).empty());
      px.stop();
    }
  }
}

TEST_CASE("a report POST failure while users pages are in flight cancels the paging workers cleanly") {
  // The users pages stall until the report branch has failed: the workers are cancelled mid-request.
  auto t = matrix_tenant();
  fx::background_server up(t);
  const std::uint16_t port = up.port();
  std::atomic<bool> post_failed{false};
  scripted_server px([&, port](std::size_t, const http_request& req, connection& c) {
    if (req.method == "POST") {
      c.write(response(400, R"({"message":"bad request"})"));
      post_failed = true;
      return;
    }
    if (req.target.find("/users") != std::string::npos && req.target.find("offset=0") == std::string::npos) {
      c.hang();  // ends when the client closes the connection, or the server stops
      return;
    }
    c.write(forward(port, req));
  });
  scratch_dir dir;
  auto o = matrix_options(px.base_url(), dir / "out.c1z");
  o.http.t.first_byte = std::chrono::seconds(30);  // only cancellation can end the stalled pages
  o.http.t.idle_read = std::chrono::seconds(30);
  const auto t0 = clock_type::now();
  try {
    bp::sync::run_sync(o);
    FAIL("the sync succeeded");
  } catch (const sync_error& e) {
    CHECK(e.kind() == failure_kind::upstream);
  }
  CHECK(post_failed.load());
  CHECK(clock_type::now() - t0 < std::chrono::seconds(3));
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
  CHECK(temp_leftovers(dir.path()).empty());
  px.stop();
}

TEST_CASE("cancel at step N: a stop while request N and every later one stall ends within 3 s, file intact") {
  auto t = matrix_tenant();
  fx::options fo;
  fo.pending_polls = 1;
  fx::background_server up(t, fo);
  const std::size_t steps = clean_request_count(up);
  const std::uint16_t port = up.port();
  for (std::size_t n = 0; n <= 2 * steps + 1; ++n) {
    const std::size_t k = n % (steps + 1);
    const bool users_last = n > steps;  // the users pages taken in after the report
    CAPTURE(k);
    CAPTURE(users_last);
    bp::sync::stop_source stop;
    std::atomic<std::int64_t> stop_at_ns{0};
    scripted_server px([&, k, port](std::size_t i, const http_request& req, connection& c) {
      if (i < k) {
        c.write(forward(port, req));
        return;
      }
      if (i == k) {
        stop_at_ns = clock_type::now().time_since_epoch().count();
        stop.request_stop();
      }
      c.hang();
    });
    scratch_dir dir;
    write_file(dir / "out.c1z", "previous good file");
    auto o = matrix_options(px.base_url(), dir / "out.c1z");
    o.users_after_report = users_last;
    o.http.t.first_byte = std::chrono::seconds(30);
    o.http.t.idle_read = std::chrono::seconds(30);
    bp::sync::run_control ctl;
    ctl.stop = &stop;
    bool cancelled = false;
    try {
      bp::sync::run_sync(o, ctl);
    } catch (const sync_error& e) {
      cancelled = e.kind() == failure_kind::cancelled;
      CHECK_MESSAGE(cancelled, e.what());
    }
    const auto ended = clock_type::now();
    if (k < steps) {
      REQUIRE(cancelled);
      const auto stopped_at = clock_type::time_point(clock_type::duration(stop_at_ns.load()));
      CHECK(ended - stopped_at < std::chrono::seconds(3));
      CHECK(read_file(dir / "out.c1z") == "previous good file");
    }
    CHECK(temp_leftovers(dir.path()).empty());
    px.stop();
  }
}

TEST_CASE("cancel before the first request: the sync ends at once, cancelled, file intact") {
  auto t = matrix_tenant();
  fx::background_server up(t);
  scratch_dir dir;
  write_file(dir / "out.c1z", "previous good file");
  auto o = matrix_options(up.base_url(), dir / "out.c1z");
  bp::sync::stop_source stop;
  stop.request_stop();
  bp::sync::run_control ctl;
  ctl.stop = &stop;
  bool cancelled = false;
  try {
    bp::sync::run_sync(o, ctl);
  } catch (const sync_error& e) {
    cancelled = e.kind() == failure_kind::cancelled;
  }
  CHECK(cancelled);
  CHECK(up.log().size() == 0);  // not one request was sent
  CHECK(read_file(dir / "out.c1z") == "previous good file");
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("setup failing after the writer thread started (a CA file that is not PEM): clean error, nothing left") {
  // The CLI refuses such a file before the sync; run_sync itself must still unwind cleanly when the
  // HTTP client throws while the writer thread runs.
  auto t = matrix_tenant();
  fx::background_server up(t);
  scratch_dir dir;
  write_file(dir / "out.c1z", "previous good file");
  write_file(dir / "garbage.pem", "not a certificate\n");
  auto o = matrix_options(up.base_url(), dir / "out.c1z");
  o.http.ca_file = (dir / "garbage.pem").string();
  std::string error;
  try {
    bp::sync::run_sync(o);
  } catch (const sync_error& e) {
    error = e.what();
  }
  CHECK(error.find("cannot load CA file") != std::string::npos);
  CHECK(read_file(dir / "out.c1z") == "previous good file");
  CHECK(temp_leftovers(dir.path()).empty());
  CHECK(up.log().size() == 0);
}
