// api_client against a scripted loopback Percipio (tests/net's test server): paging completeness,
// paging-id rules, 429/5xx storms, auth errors, and every report shape of spec 6.3.
#include "baton_percipio/percipio/api_client.hpp"

#include <doctest/doctest.h>

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames in lambdas.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/io_context.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "baton_percipio/core/log.hpp"
#include "net/test_server.hpp"

using namespace bp::percipio;
namespace nt = bp::net::test;

namespace {

constexpr const char* org = "org-1";
constexpr const char* token = "secret-token-123";

std::string uid(unsigned n, unsigned kind) {
  char b[40];
  std::snprintf(b, sizeof b, "%08x-%04x-4000-8000-000000000000", n, kind);
  return b;
}

std::map<std::string, std::string> query_of(const std::string& target) {
  std::map<std::string, std::string> q;
  auto pos = target.find('?');
  if (pos == std::string::npos) return q;
  std::string rest = target.substr(pos + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string kv = rest.substr(0, amp);
    auto eq = kv.find('=');
    q[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
  }
  return q;
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

std::optional<std::string> header_of(const nt::received& r, std::string_view name) {
  auto v = bp::net::find_header(r.headers, name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

std::string json_response(const std::string& body, std::vector<std::string> headers = {}) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
  for (auto& h : headers) r += h + "\r\n";
  return r + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A scripted tenant. `fault` may answer any request first (429s, 5xx, cut bodies...).
struct fake {
  unsigned users = 0;
  unsigned items = 0;
  bool users_total = true;
  enum class catalog_end { link, total, none } catalog_mode = catalog_end::link;
  int pending_polls = 2;
  unsigned report_rows = 5;
  std::string report_result = "array";  // array | failed | 404 | pending | html | processed
  std::function<std::optional<nt::reply>(const nt::received&, int index)> fault;

  int posts = 0;
  std::map<std::string, int> polls;
  int request_index = 0;
  std::vector<std::string> catalog_targets;
  bool blank_paging_id_seen = false;

  std::string user_json(unsigned i) const {
    return R"({"id":")" + uid(i, 1) + R"(","email":"u)" + std::to_string(i) +
           R"(@x.io","isActive":true,"customAttributes":[{"name":"A","value":null}]})";
  }
  std::string item_json(unsigned i) const {
    return R"({"id":")" + uid(i, 2) + R"(","contentType":{"percipioType":"COURSE"},"lifecycle":{"status":"ACTIVE"},)"
           R"("localizedMetadata":[{"localeCode":"en-US","title":"T)" + std::to_string(i) + R"("}]})";
  }
  std::string report_body() const {
    std::string s = "[";
    for (unsigned i = 0; i < report_rows; ++i) {
      if (i) s += ",\n";
      s += R"({"userUuid":")" + uid(i % 50, 1) + R"(","contentUuid":")" + uid(i, 2) +
           R"(","status":"Completed","audience":"All Users; {x}","duration":"1"})";
    }
    return s + "]";
  }

  template <class F>
  std::string slice(unsigned total, std::size_t off, std::size_t max, F item) const {
    std::string s = "[";
    for (std::size_t i = off; i < std::min<std::size_t>(total, off + max); ++i) {
      if (i != off) s += ",";
      s += item(static_cast<unsigned>(i));
    }
    return s + "]";
  }

  nt::reply handle(const nt::received& r) {
    const int index = request_index++;
    if (header_of(r, "Authorization") != std::string("Bearer ") + token)
      return nt::status(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})");
    if (fault) {
      if (auto f = fault(r, index)) return *f;
    }
    const std::string path = path_of(r.target);
    auto q = query_of(r.target);
    const std::string base = std::string("/organizations/") + org;
    if (path == "/user-management/v1" + base + "/users") {
      const std::size_t off = std::stoul(q["offset"]), max = std::stoul(q["max"]);
      std::vector<std::string> h;
      if (users_total) h.push_back("x-total-count: " + std::to_string(users));
      return nt::raw(json_response(slice(users, off, max, [&](unsigned i) { return user_json(i); }), h));
    }
    if (path == "/content-discovery/v2" + base + "/catalog-content") {
      catalog_targets.push_back(r.target);
      const std::size_t off = std::stoul(q["offset"]), max = std::stoul(q["max"]);
      const bool has_id = r.target.find("pagingRequestId") != std::string::npos;
      if (has_id && q["pagingRequestId"].empty()) blank_paging_id_seen = true;
      if (off > 0 && q["pagingRequestId"] != "pid-1") return nt::status(400, R"({"errors":[{"code":"NO_PAGING_ID"}]})");
      std::vector<std::string> h{"x-paging-request-id: pid-1"};
      if (catalog_mode == catalog_end::total) h.push_back("X-Total-Count: " + std::to_string(items));
      if (catalog_mode == catalog_end::link && off == 0) {
        const std::size_t last = items == 0 ? 0 : ((items - 1) / max) * max;
        h.push_back("Link: </v2/organizations/org-1/catalog-content?offset=0&max=" + std::to_string(max) +
                    "&pagingRequestId=pid-1>; page=\"1\"; per_page=\"" + std::to_string(max) +
                    "\"; rel=\"first\", </v2/organizations/org-1/catalog-content?offset=" + std::to_string(last) +
                    "&max=" + std::to_string(max) + "&pagingRequestId=pid-1>; page=\"9\"; rel=\"last\"");
      }
      return nt::raw(json_response(slice(items, off, max, [&](unsigned i) { return item_json(i); }), h));
    }
    if (path == "/content-discovery/v1" + base + "/search-content") {
      // Full-text-like: the exact item (if it exists) plus a near match.
      std::string body = "[" + item_json(items + 7);
      for (unsigned i = 0; i < items; ++i)
        if (uid(i, 2) == q["q"]) body += "," + item_json(i);
      return nt::raw(json_response(body + "]"));
    }
    if (r.method == "POST" && path == "/reporting/v1" + base + "/report-requests/learning-activity") {
      ++posts;
      return nt::raw(json_response(R"({"id":"rep-)" + std::to_string(posts) + R"(","status":"PENDING"})"));
    }
    if (path.rfind("/reporting/v1" + base + "/report-requests/rep-", 0) == 0) {
      const std::string id = path.substr(path.rfind('/') + 1);
      const int n = polls[id]++;
      if (n < pending_polls)
        return nt::raw(json_response(R"({"reportId":")" + id + R"(","status":")" +
                                     (n == 0 ? "PENDING" : "IN_PROGRESS") + R"("})"));
      if (report_result == "failed")
        return nt::raw(json_response(R"({"reportId":")" + id + R"(","status":"FAILED","error":"generation failed"})"));
      if (report_result == "404" && id == "rep-1") return nt::status(404, "{}");
      if (report_result == "pending") return nt::raw(json_response(R"({"status":"PENDING"})"));
      if (report_result == "html") return nt::raw(json_response("<html>oops</html>"));
      if (report_result == "processed") return nt::raw(json_response(R"({"status":"PROCESSED"})"));
      return nt::raw(json_response(report_body()));
    }
    return nt::status(404, "not found");
  }
};

client_config test_config(const std::string& base) {
  client_config c;
  c.base_url = base;
  c.org_id = org;
  c.token = token;
  c.concurrency = 4;
  c.page_size = 100;
  c.rate_limit = {};
  c.retry.base_delay = std::chrono::milliseconds(1);
  c.retry.max_delay = std::chrono::milliseconds(4);
  c.retry.rate_limit_base = std::chrono::milliseconds(1);
  c.retry.max_retry_after = std::chrono::milliseconds(5);
  c.retry.seed = 7;
  c.poll_initial = std::chrono::milliseconds(1);
  c.poll_max = std::chrono::milliseconds(4);
  return c;
}

struct harness {
  asio::io_context io;
  fake f;
  nt::server srv{io, [this](const nt::received& r) { return f.handle(r); }};
  bp::net::client http{io.get_executor(), bp::net::client_options{}};
  client_config cfg = test_config(srv.url("").substr(0, srv.url("").size()));

  harness() {
    std::string u = srv.url("/");
    cfg.base_url = u.substr(0, u.size() - 1);
  }

  template <class F>
  void run(F body) {
    nt::run(io, std::move(body), [this] {
      http.close_idle();
      srv.stop();
    });
  }
};

// Keep test output quiet (warnings about injected faults are expected).
const bool quiet_logs = [] {
  bp::log::configure(bp::log::level::error, bp::log::format::console);
  return true;
}();

bp::deadline soon() { return bp::steady_clock::now() + std::chrono::seconds(10); }

}  // namespace

TEST_CASE("users: x-total-count drives concurrent offsets; every id exactly once") {
  for (unsigned n : {0u, 1u, 100u, 250u, 1000u}) {
    for (bool total : {true, false}) {
      harness h;
      h.f.users = n;
      h.f.users_total = total;
      std::multiset<std::string> ids;
      h.run([&]() -> asio::awaitable<void> {
        api_client c(h.io.get_executor(), h.http, h.cfg);
        auto r = co_await c.async_list_users(soon(), [&](std::vector<user>&& page) -> asio::awaitable<void> {
          for (auto& u : page) ids.insert(u.id);
          co_return;
        });
        REQUIRE_MESSAGE(r.ok(), r.error().message);
        CHECK(r->items == n);
        CHECK(c.counters().pages == r->pages);
      });
      CHECK(ids.size() == n);
      for (unsigned i = 0; i < n; ++i) CHECK(ids.count(uid(i, 1)) == 1);
      // With the total known, no request past the end; without it, one short/empty page ends it.
      const std::size_t expect = total ? std::max<std::size_t>(1, (n + 99) / 100) : n / 100 + 1;
      CHECK_MESSAGE(h.srv.requests() == expect, "n=" << n << " total=" << total);
    }
  }
}

TEST_CASE("catalog: paging id rules and every end-detection mode") {
  using mode = fake::catalog_end;
  for (mode md : {mode::link, mode::total, mode::none}) {
    for (unsigned n : {0u, 99u, 100u, 345u}) {
      harness h;
      h.f.items = n;
      h.f.catalog_mode = md;
      std::multiset<std::string> ids;
      h.run([&]() -> asio::awaitable<void> {
        api_client c(h.io.get_executor(), h.http, h.cfg);
        auto r = co_await c.async_list_catalog(soon(), [&](std::vector<content_item>&& page) -> asio::awaitable<void> {
          for (auto& it : page) ids.insert(it.id);
          co_return;
        });
        REQUIRE_MESSAGE(r.ok(), r.error().message);
      });
      CHECK(ids.size() == n);
      for (unsigned i = 0; i < n; ++i) CHECK(ids.count(uid(i, 2)) == 1);
      CHECK(!h.f.blank_paging_id_seen);
      REQUIRE(!h.f.catalog_targets.empty());
      CHECK(h.f.catalog_targets[0].find("pagingRequestId") == std::string::npos);
      for (std::size_t i = 1; i < h.f.catalog_targets.size(); ++i)
        CHECK(h.f.catalog_targets[i].find("pagingRequestId=pid-1") != std::string::npos);
    }
  }
}

TEST_CASE("429 storms and 5xx bursts are retried; pages stay complete") {
  harness h;
  h.f.users = 1000;
  h.f.fault = [](const nt::received&, int index) -> std::optional<nt::reply> {
    if (index < 12 && index % 2 == 0) return nt::status(429, "", {"Retry-After: 0"});
    if (index >= 12 && index < 15) return nt::status(503, "<html>busy</html>", {"Content-Type: text/html"});
    if (index == 15) return nt::raw(json_response("[{\"id\": \"cut"));  // 200 with cut JSON: retried
    if (index == 16) return nt::raw(json_response("<html>maintenance</html>"));  // 200, not JSON
    return std::nullopt;
  };
  std::set<std::string> ids;
  std::size_t delivered = 0;
  h.run([&]() -> asio::awaitable<void> {
    api_client c(h.io.get_executor(), h.http, h.cfg);
    auto r = co_await c.async_list_users(soon(), [&](std::vector<user>&& page) -> asio::awaitable<void> {
      delivered += page.size();
      for (auto& u : page) ids.insert(u.id);
      co_return;
    });
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    const auto k = c.counters();
    CHECK(k.rate_limited >= 6);
    CHECK(k.retries >= 11);
    CHECK(k.requests == h.srv.requests());
  });
  CHECK(ids.size() == 1000);
  CHECK(delivered == 1000);
}

TEST_CASE("persistent 5xx gives upstream_failed naming the page") {
  harness h;
  h.f.users = 10;
  h.cfg.retry.max_attempts = 3;
  h.f.fault = [](const nt::received&, int) -> std::optional<nt::reply> {
    return nt::status(502, R"({"errors":[{"code":"BAD_GATEWAY","additionalInfo":"upstream"}]})");
  };
  h.run([&]() -> asio::awaitable<void> {
    api_client c(h.io.get_executor(), h.http, h.cfg);
    auto r = co_await c.async_list_users(soon(), [](std::vector<user>&&) -> asio::awaitable<void> { co_return; });
    REQUIRE(!r.ok());
    CHECK(r.error().code == errc::upstream_failed);
    CHECK(r.error().message ==
          "users page offset=0: HTTP 502 from GET /user-management/v1/organizations/org-1/users: BAD_GATEWAY: upstream");
  });
  CHECK(h.srv.requests() == 3);
}

TEST_CASE("wrong token: clear auth error, never the token; 403 names the service") {
  harness h;
  h.cfg.token = "wrong-token";
  h.run([&]() -> asio::awaitable<void> {
    api_client c(h.io.get_executor(), h.http, h.cfg);
    auto r = co_await c.async_list_users(soon(), [](std::vector<user>&&) -> asio::awaitable<void> { co_return; });
    REQUIRE(!r.ok());
    CHECK(r.error().code == errc::auth_failed);
    CHECK(r.error().message ==
          "authentication failed: the API token was rejected (401) by GET "
          "/user-management/v1/organizations/org-1/users");
    CHECK(r.error().message.find("wrong-token") == std::string::npos);
  });
  CHECK(h.srv.requests() == 1);  // never retried

  harness h2;
  h2.f.fault = [](const nt::received&, int) -> std::optional<nt::reply> { return nt::status(403, "{}"); };
  h2.run([&]() -> asio::awaitable<void> {
    api_client c(h2.io.get_executor(), h2.http, h2.cfg);
    auto r = co_await c.async_report(soon(), [](std::span<const report_row>) -> asio::awaitable<void> { co_return; });
    REQUIRE(!r.ok());
    CHECK(r.error().code == errc::permission_denied);
    CHECK(r.error().message.find("lacks access to reporting") != std::string::npos);
  });
}

TEST_CASE("search lookups: exact id matches only; missing ids are warnings") {
  harness h;
  h.f.items = 20;
  // Built outside the coroutine: GCC 12 miscompiles initializer lists inside co_await expressions.
  std::vector<std::string> wanted{uid(3, 2), "nope", uid(19, 2), uid(5, 2)};
  h.run([&]() -> asio::awaitable<void> {
    api_client c(h.io.get_executor(), h.http, h.cfg);
    auto r = co_await c.async_lookup_courses(wanted, soon());
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    REQUIRE(r->items.size() == 3);
    CHECK(r->items[0].id == uid(3, 2));
    CHECK(r->items[1].id == uid(19, 2));
    CHECK(r->items[2].id == uid(5, 2));
    REQUIRE(r->not_found.size() == 1);
    CHECK(r->not_found[0] == "nope");
  });
  CHECK(h.srv.requests() == 4);
  for (auto& rec : h.srv.log()) CHECK(rec.target.find("typeFilter=COURSE%2CASSESSMENT") != std::string::npos);
}

namespace {

struct report_run {
  result<report_summary> res = failure{};
  std::set<std::pair<std::string, std::string>> pairs;
  std::size_t delivered = 0;
};

report_run run_report(harness& h) {
  report_run out;
  h.run([&]() -> asio::awaitable<void> {
    api_client c(h.io.get_executor(), h.http, h.cfg);
    out.res = co_await c.async_report(soon(), [&](std::span<const report_row> rows) -> asio::awaitable<void> {
      out.delivered += rows.size();
      for (auto& r : rows) out.pairs.emplace(r.user.to_string(), r.content.to_string());
      co_return;
    });
  });
  return out;
}

}  // namespace

TEST_CASE("report: pending, in progress, then the array (small and streamed)") {
  for (unsigned rows : {0u, 5u, 4000u}) {
    harness h;
    h.f.report_rows = rows;
    auto r = run_report(h);
    REQUIRE_MESSAGE(r.res.ok(), r.res.error().message);
    CHECK(r.res->rows == rows);
    CHECK(r.delivered == rows);
    CHECK(r.pairs.size() == rows);
    CHECK(r.res->jobs == 1);
    CHECK(h.f.posts == 1);
    CHECK(h.f.polls["rep-1"] == 3);
  }
  // The POST body: the three fields only, RFC 3339 UTC.
  harness h;
  h.cfg.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)); };
  run_report(h);
  REQUIRE(!h.srv.log().empty());
  CHECK(h.srv.log()[0].body ==
        R"({"contentType":"Course,Assessment","start":"2013-11-16T22:13:20Z","end":"2023-11-14T22:13:20Z"})");
}

TEST_CASE("report: truncated download is retried with the same GET; rows re-delivered") {
  harness h;
  h.f.report_rows = 20000;  // ~3 MB: the first half is streamed (and parsed) before the cut
  h.f.pending_polls = 0;
  const std::string full = h.f.report_body();
  int cut_once = 0;
  h.f.fault = [&](const nt::received& r, int) -> std::optional<nt::reply> {
    if (r.method == "GET" && cut_once++ == 0) {
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(full.size()) + "\r\n\r\n";
      return nt::raw(head + full.substr(0, full.size() / 2), true);
    }
    return std::nullopt;
  };
  auto r = run_report(h);
  REQUIRE_MESSAGE(r.res.ok(), r.res.error().message);
  CHECK(r.res->downloads == 2);
  CHECK(r.res->jobs == 1);
  CHECK(r.pairs.size() == 20000);
  CHECK(r.delivered > 20000);  // rows before the cut came twice
  CHECK(h.f.posts == 1);
}

TEST_CASE("report: cut JSON in a complete 200 body is retried, then a new job") {
  harness h;
  h.f.pending_polls = 0;
  h.f.fault = [&](const nt::received& r, int) -> std::optional<nt::reply> {
    if (r.method == "GET" && r.target.find("rep-1") != std::string::npos)
      return nt::raw(json_response(R"([{"userUuid":"x"},{"userUuid":)"));
    return std::nullopt;
  };
  auto r = run_report(h);
  REQUIRE_MESSAGE(r.res.ok(), r.res.error().message);
  CHECK(h.f.posts == 2);
  CHECK(r.res->jobs == 2);
  CHECK(r.pairs.size() == 5);
}

TEST_CASE("report: FAILED status is report_failed") {
  harness h;
  h.f.report_result = "failed";
  auto r = run_report(h);
  REQUIRE(!r.res.ok());
  CHECK(r.res.error().code == errc::report_failed);
  CHECK(r.res.error().message == "report rep-1 FAILED: generation failed");
}

TEST_CASE("report: 404 on poll starts a new job once") {
  harness h;
  h.f.report_result = "404";
  auto r = run_report(h);
  REQUIRE_MESSAGE(r.res.ok(), r.res.error().message);
  CHECK(h.f.posts == 2);
  CHECK(r.pairs.size() == 5);
}

TEST_CASE("report: empty bodies, HTML and PROCESSED objects are bounded") {
  for (const char* kind : {"html", "processed"}) {
    harness h;
    h.f.report_result = kind;
    auto r = run_report(h);
    REQUIRE(!r.res.ok());
    CHECK(r.res.error().code == (std::string(kind) == "html" ? errc::malformed_response : errc::report_failed));
  }
  harness h;
  h.f.pending_polls = 0;
  int empties = 0;
  h.f.fault = [&](const nt::received& r, int) -> std::optional<nt::reply> {
    if (r.method == "GET" && empties++ < 2) return nt::raw(json_response(""));
    return std::nullopt;
  };
  auto r = run_report(h);
  REQUIRE_MESSAGE(r.res.ok(), r.res.error().message);
  CHECK(r.pairs.size() == 5);
}

TEST_CASE("report: poll 429/503 retried; POST retried only without a response; timeout") {
  harness h;
  int n = 0;
  h.f.fault = [&](const nt::received& r, int) -> std::optional<nt::reply> {
    ++n;
    if (r.method == "POST" && n == 1) return nt::raw("", true);  // closed before any response
    if (r.method == "GET" && n < 5) return nt::status(n % 2 ? 429 : 503, "");
    return std::nullopt;
  };
  auto r = run_report(h);
  REQUIRE_MESSAGE(r.res.ok(), r.res.error().message);
  CHECK(h.f.posts == 1);  // the closed attempt never reached the fake's POST handler

  harness h2;
  int posts = 0;
  h2.f.fault = [&](const nt::received& r, int) -> std::optional<nt::reply> {
    if (r.method == "POST" && posts++ == 0) return nt::status(500, "oops");
    return std::nullopt;
  };
  auto r2 = run_report(h2);
  REQUIRE(!r2.res.ok());
  CHECK(r2.res.error().code == errc::upstream_failed);
  CHECK(posts == 1);  // a response arrived: not retried

  harness h3;
  h3.f.report_result = "pending";
  h3.cfg.report_timeout = std::chrono::milliseconds(60);
  auto r3 = run_report(h3);
  REQUIRE(!r3.res.ok());
  CHECK(r3.res.error().code == errc::report_timeout);
}
