// Upstream faults end to end (bp::sync::run_sync against the fixture server, or a scripted server
// in front of it): storms of 429s, servers that never answer or stall mid-body, oversized headers,
// endless bodies, invalid UTF-8 and duplicates. Every failure is a clean sync_error and leaves no
// output or temporary file; every success writes exactly the expected records.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>

#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/fixture/recorded_tenant.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/sync/run.hpp"
#include "helpers.hpp"
#include "scripted_server.hpp"
#include "tenant_files.hpp"
#include "utf8_walk.hpp"

using namespace bp::hardening;
namespace fx = bp::fixture;
using bp::sync::failure_kind;
using bp::sync::sync_error;
using clock_type = std::chrono::steady_clock;

namespace {

// Runs a sync expected to fail; returns the error.
sync_error expect_failure(const bp::sync::options& o) {
  try {
    bp::sync::run_sync(o);
  } catch (const sync_error& e) {
    return e;
  }
  FAIL("the sync succeeded");
  return sync_error(failure_kind::internal, "unreachable");
}

// A forwarding proxy in front of a fixture server whose first `faulty` requests get `fault`.
template <class Fault>
handler proxy(const fx::background_server& upstream, std::size_t faulty, Fault fault) {
  const std::uint16_t port = upstream.port();
  return [=](std::size_t i, const http_request& req, connection& c) {
    if (i < faulty) return fault(req, c, port);
    c.write(forward(port, req));
  };
}

}  // namespace

TEST_CASE("baseline: a sync through the forwarding proxy writes exactly the expected records") {
  auto t = small_tenant();
  fx::background_server up(t);
  scripted_server px(proxy(up, 0, [](const http_request&, connection&, std::uint16_t) {}));
  scratch_dir dir;
  auto s = bp::sync::run_sync(fast_options(px.base_url(), dir / "out.c1z"));
  check_matches_expected(s, *t, dir / "out.c1z");
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("1,000 consecutive 429s, then success: the sync completes") {
  auto t = small_tenant(30, 30, 200);
  fx::background_server up(t);
  scripted_server px(proxy(up, 1000, [](const http_request&, connection& c, std::uint16_t) {
    c.write(response(429, R"({"errors":[{"code":"TOO_MANY_REQUESTS"}]})", "Retry-After: 0\r\n"));
  }));
  scratch_dir dir;
  auto o = fast_options(px.base_url(), dir / "out.c1z");
  // Default attempt limit: 429s do not use it up (rate limiting is bounded by the deadline).
  o.api.retry.max_attempts = bp::net::retry_policy{}.max_attempts;
  const auto t0 = clock_type::now();
  auto s = bp::sync::run_sync(o);
  CHECK(clock_type::now() - t0 < std::chrono::seconds(15));
  CHECK(s.rate_limited >= 1000);
  check_matches_expected(s, *t, dir / "out.c1z");
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("429 forever: the sync fails at its deadline, cleanly") {
  scripted_server px([](std::size_t, const http_request&, connection& c) {
    c.write(response(429, "{}", "Retry-After: 0\r\n"));
  });
  scratch_dir dir;
  auto o = fast_options(px.base_url(), dir / "out.c1z");
  o.sync_timeout = std::chrono::seconds(1);
  const auto t0 = clock_type::now();
  auto e = expect_failure(o);
  CHECK(clock_type::now() - t0 < std::chrono::seconds(8));
  CHECK(e.kind() == failure_kind::upstream);
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("a server that accepts and never answers: timeouts, retries, then a clean upstream failure") {
  scripted_server px([](std::size_t, const http_request&, connection& c) { c.hang(); });
  scratch_dir dir;
  write_file(dir / "out.c1z", "previous good file");
  auto o = fast_options(px.base_url(), dir / "out.c1z");
  o.http.t.first_byte = std::chrono::milliseconds(150);
  o.api.retry.max_attempts = 3;
  const auto t0 = clock_type::now();
  auto e = expect_failure(o);
  CHECK(clock_type::now() - t0 < std::chrono::seconds(10));
  CHECK(e.kind() == failure_kind::upstream);
  INFO(std::string(e.what()));
  CHECK(std::string(e.what()).find("timed out") != std::string::npos);
  CHECK(px.requests() >= 3);  // retried
  CHECK(read_file(dir / "out.c1z") == "previous good file");
  CHECK(temp_leftovers(dir.path()).empty());
  px.stop();
}

TEST_CASE("a body that stalls mid-way is abandoned at the idle timeout and retried") {
  auto t = small_tenant(30, 30, 200);
  fx::background_server up(t);
  auto stall_half = [](const http_request& req, connection& c, std::uint16_t port) {
    const std::string full = forward(port, req);
    c.write(std::string_view(full).substr(0, body_offset(full) + (full.size() - body_offset(full)) / 2));
    c.hang();
  };
  scratch_dir dir;
  SUBCASE("the first requests stall, the retries succeed") {
    scripted_server px(proxy(up, 3, stall_half));
    auto o = fast_options(px.base_url(), dir / "out.c1z");
    o.http.t.idle_read = std::chrono::milliseconds(150);
    auto s = bp::sync::run_sync(o);
    CHECK(s.retries >= 1);
    check_matches_expected(s, *t, dir / "out.c1z");
    px.stop();
  }
  SUBCASE("every response stalls: a clean upstream failure") {
    scripted_server px(proxy(up, 1000000, stall_half));
    auto o = fast_options(px.base_url(), dir / "out.c1z");
    o.http.t.idle_read = std::chrono::milliseconds(100);
    o.api.retry.max_attempts = 2;
    auto e = expect_failure(o);
    CHECK(e.kind() == failure_kind::upstream);
    CHECK_FALSE(fs::exists(dir / "out.c1z"));
    px.stop();
  }
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("an endless response header is refused at max_header_bytes") {
  scripted_server px([](std::size_t, const http_request&, connection& c) {
    if (!c.write("HTTP/1.1 200 OK\r\nX-Filler: ")) return;
    const std::string filler(64 * 1024, 'a');
    for (std::size_t sent = 0; sent < (1ull << 30) && c.write(filler); sent += filler.size()) {
    }
  });
  scratch_dir dir;
  auto o = fast_options(px.base_url(), dir / "out.c1z");
  o.http.max_header_bytes = 16 * 1024;
  const auto t0 = clock_type::now();
  auto e = expect_failure(o);
  CHECK(clock_type::now() - t0 < std::chrono::seconds(10));
  CHECK(e.kind() == failure_kind::upstream);
  INFO(std::string(e.what()));
  CHECK(std::string(e.what()).find("header") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
  CHECK(temp_leftovers(dir.path()).empty());
  px.stop();
}

TEST_CASE("an endless chunked page is refused at max_body_bytes (max page size)") {
  scripted_server px([](std::size_t, const http_request&, connection& c) {
    if (!c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n"))
      return;
    std::string piece;
    for (int i = 0; i < 200; ++i) piece += R"({"id":"00000000-0000-4000-8000-000000000001"},)";
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    const std::string chunk = size + piece + "\r\n";
    for (std::size_t sent = 0; sent < (1ull << 30) && c.write(chunk); sent += chunk.size()) {
    }
  });
  scratch_dir dir;
  auto o = fast_options(px.base_url(), dir / "out.c1z");
  o.http.max_body_bytes = 256 * 1024;
  auto e = expect_failure(o);
  CHECK(e.kind() == failure_kind::upstream);
  INFO(std::string(e.what()));
  CHECK(std::string(e.what()).find("too large") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
  CHECK(temp_leftovers(dir.path()).empty());
  px.stop();
}

TEST_CASE("an endless report body is refused at max_report_bytes") {
  auto t = small_tenant(30, 30, 200);
  fx::background_server up(t);
  const std::uint16_t port = up.port();
  scripted_server px([port](std::size_t, const http_request& req, connection& c) {
    std::string full = forward(port, req);
    const auto off = body_offset(full);
    const bool report_array = req.method == "GET" && req.target.find("report-requests/") != std::string::npos &&
                              off != std::string::npos && full.find('[', off) != std::string::npos &&
                              full.find('{', off) > full.find('[', off);
    if (!report_array) {
      c.write(full);
      return;
    }
    if (!c.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n[\r\n"))
      return;
    std::string piece;
    for (int i = 0; i < 100; ++i) piece += row_json(1, 1, "Completed") + ",";
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    const std::string chunk = size + piece + "\r\n";
    for (std::size_t sent = 0; sent < (1ull << 30) && c.write(chunk); sent += chunk.size()) {
    }
  });
  scratch_dir dir;
  auto o = fast_options(px.base_url(), dir / "out.c1z");
  o.max_report_bytes = 512 * 1024;
  const auto t0 = clock_type::now();
  auto e = expect_failure(o);
  CHECK(clock_type::now() - t0 < std::chrono::seconds(10));
  CHECK(e.kind() == failure_kind::upstream);
  INFO(std::string(e.what()));
  CHECK(std::string(e.what()).find("max-report-bytes") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
  CHECK(temp_leftovers(dir.path()).empty());
  px.stop();
}

TEST_CASE("invalid UTF-8 and lone surrogates in names and titles: the sync completes, the c1z is valid UTF-8") {
  scratch_dir dir;
  const std::vector<std::string> bad = {
      "\xff\xfe",        // never valid
      "Ren\xc3",         // truncated sequence
      "\xc0\xaf",        // overlong '/'
      "\xed\xa0\x80x",   // UTF-8 encoded surrogate
      "\\ud800",         // lone high surrogate escape
      "a\\udc00b",       // lone low surrogate escape
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "Zo\xc3\xab",      // valid, must survive unchanged
  };
  std::vector<std::string> users, catalog, rows;
  for (int i = 0; i < static_cast<int>(bad.size()); ++i) {
    users.push_back(user_json(i + 1, bad[static_cast<std::size_t>(i)], "Last" + bad[static_cast<std::size_t>(i)]));
    catalog.push_back(course_json(i + 1, "Course " + bad[static_cast<std::size_t>(i)]));
    rows.push_back(row_json(i + 1, i + 1, "Completed", bad[static_cast<std::size_t>(i)]));
  }
  write_tenant(dir / "tenant", users, catalog, rows);
  std::string err;
  auto t = fx::recorded_tenant::load((dir / "tenant").string(), &err);
  REQUIRE_MESSAGE(t, err);
  fx::background_server up(t);
  auto o = fast_options(up.base_url(), dir / "out.c1z");
  bp::sync::summary s;
  try {
    s = bp::sync::run_sync(o);
  } catch (const sync_error& e) {
    FAIL("sync failed: " << std::string(e.what()));
  }
  CHECK(s.users == bad.size());
  CHECK(s.courses == bad.size());
  CHECK(s.grants() == bad.size());

  bp::c1z::reader r(dir / "out.c1z");
  std::vector<std::string> invalid;
  std::size_t strings = 0;
  bool saw_valid_name = false;
  r.for_each_resource([&](const bp::c1z::resource_row& row) {
    find_invalid_utf8(row.message, "resource " + std::string(row.external_id), invalid, &strings);
    if (row.message.display_name() == "Zo\xc3\xab Last" "Zo\xc3\xab") saw_valid_name = true;
  });
  r.for_each_entitlement([&](const bp::c1z::entitlement_row& row) {
    find_invalid_utf8(row.message, "entitlement", invalid, &strings);
  });
  r.for_each_grant([&](const bp::c1z::grant_row& row) { find_invalid_utf8(row.message, "grant", invalid, &strings); });
  CHECK(strings > 50);
  for (const auto& i : invalid) INFO(i);
  CHECK_MESSAGE(invalid.empty(), invalid.size() << " invalid strings, first: " << (invalid.empty() ? "" : invalid[0]));
  CHECK(saw_valid_name);
}

TEST_CASE("duplicate ids across pages are written once") {
  scratch_dir dir;
  std::vector<std::string> users, catalog, rows;
  for (int i = 1; i <= 7; ++i) users.push_back(user_json(i, "U" + std::to_string(i), "L"));
  // Repeats on later pages (page size 3): users 1 and 2 again, user 5 twice more.
  users.push_back(user_json(1, "Again", "L"));
  users.push_back(user_json(5, "Again", "L"));
  users.push_back(user_json(2, "Again", "L"));
  users.push_back(user_json(5, "Again", "L"));
  for (int i = 1; i <= 5; ++i) catalog.push_back(course_json(i, "C" + std::to_string(i)));
  catalog.push_back(course_json(1, "C1 again"));
  catalog.push_back(course_json(4, "C4 again"));
  for (int u = 1; u <= 7; ++u) rows.push_back(row_json(u, (u % 5) + 1, u % 2 ? "Completed" : "Started"));
  rows.push_back(row_json(1, 2, "Completed"));  // same pair again
  write_tenant(dir / "tenant", users, catalog, rows);
  std::string err;
  auto t = fx::recorded_tenant::load((dir / "tenant").string(), &err);
  REQUIRE_MESSAGE(t, err);
  fx::background_server up(t);
  auto o = fast_options(up.base_url(), dir / "out.c1z");
  o.api.page_size = 3;
  auto s = bp::sync::run_sync(o);
  CHECK(s.users == 7);
  CHECK(s.duplicate_users == 4);
  CHECK(s.courses == 5);
  CHECK(s.duplicate_courses == 2);
  check_matches_expected(s, *t, dir / "out.c1z");
  bp::c1z::reader r(dir / "out.c1z");
  std::multiset<std::string> ids;
  r.for_each_resource([&](const bp::c1z::resource_row& row) { ids.insert(std::string(row.external_id)); });
  for (const auto& id : ids) CHECK_MESSAGE(ids.count(id) == 1, id);
  std::multiset<std::string> grants;
  r.for_each_grant([&](const bp::c1z::grant_row& row) { grants.insert(std::string(row.external_id)); });
  for (const auto& id : grants) CHECK_MESSAGE(grants.count(id) == 1, id);
}
