// The download floor of a sync: the same requests as bp::percipio::api_client makes for a full sync
// (users pages, catalog pages, report POST + polls), at the same concurrency, through the same
// bp::net::client and adaptive limiter, but every body is discarded as it arrives: no parsing,
// no mapping, no SQLite, no compression. Prints one JSON line on stdout.
//
// usage: bench_floor --base-url URL --org ID --token T [--concurrency N] [--rate-limit N/DURATION|0]
//                    [--poll-initial-ms MS] [--page-size N]
#include <sys/resource.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "baton_percipio/core/rate_limit.hpp"
#include "baton_percipio/net/client.hpp"
#include "baton_percipio/net/limiter.hpp"
#include "baton_percipio/percipio/headers.hpp"
#include "baton_percipio/percipio/parse.hpp"

namespace {

using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

struct settings {
  std::string base_url, org, token;
  std::size_t concurrency = 8;
  bp::rate_limit rate_limit = bp::percipio_rate_limit;  // as the sync's default
  std::chrono::milliseconds poll_initial{2000};
  std::size_t page_size = 1000;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "bench_floor: %s\n", msg.c_str());
  std::exit(1);
}

class floor_client {
 public:
  floor_client(asio::any_io_executor ex, const settings& s)
      : s_(s), http_(ex, http_options(s)), lim_(ex, limiter_options(s)) {}

  awaitable<void> run() { co_await (users() && (catalog() && report())); }

  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;  // decoded body bytes, as the sync counts them

 private:
  static bp::net::client_options http_options(const settings& s) {
    bp::net::client_options o;
    o.max_connections_per_host = s.concurrency + 1;
    return o;
  }
  static bp::net::limiter_options limiter_options(const settings& s) {
    bp::net::limiter_options o;
    o.max_concurrency = s.concurrency;
    o.budget_requests = s.rate_limit.requests;
    o.budget_window = s.rate_limit.window;
    return o;
  }

  std::string path(const char* service, const char* version, std::string_view rest) const {
    return fmt::format("{}/{}/{}/organizations/{}/{}", s_.base_url, service, version, s_.org, rest);
  }

  bp::net::request make(std::string method, const std::string& url) const {
    auto u = bp::net::url::parse(url);
    if (!u) die("bad url " + url);
    bp::net::request r;
    r.method = std::move(method);
    r.u = std::move(*u);
    r.headers.push_back({"Authorization", "Bearer " + s_.token});
    r.headers.push_back({"Accept", "application/json"});
    r.headers.push_back({"Cache-Control", "no-cache"});
    return r;
  }

  // One GET through the limiter; the body is counted and dropped. Returns the response headers.
  awaitable<bp::net::response> get(const std::string& url) {
    auto [lec, permit] = co_await lim_.async_acquire(bp::no_deadline);
    if (lec) die("limiter: " + lec.message());
    ++requests;
    std::uint64_t n = 0;
    auto [ec, resp] = co_await http_.async_request(make("GET", url), bp::no_deadline,
                                                   [&n](std::string_view chunk) -> std::error_code {
                                                     n += chunk.size();
                                                     return {};
                                                   });
    if (ec) die(fmt::format("GET {}: {}", url, ec.message()));
    if (resp.status != 200) die(fmt::format("GET {}: HTTP {}", url, resp.status));
    bytes += n;
    lim_.on_success();
    co_return std::move(resp);
  }

  // Offsets [page_size, last] with `concurrency` workers, like api_client::fetch_offsets.
  awaitable<void> fetch_offsets(std::uint64_t last, std::function<std::string(std::uint64_t)> url_of) {
    std::uint64_t next = s_.page_size;
    auto ex = co_await asio::this_coro::executor;
    std::size_t left = 0;
    asio::steady_timer done(ex, bp::steady_clock::time_point::max());
    for (std::size_t w = 0; w < s_.concurrency && next + w * s_.page_size <= last; ++w) {
      ++left;
      asio::co_spawn(
          ex,
          [&]() -> awaitable<void> {
            while (next <= last) {
              const auto off = next;
              next += s_.page_size;
              co_await get(url_of(off));
            }
          },
          [&](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
            if (--left == 0) done.cancel();
          });
    }
    while (left > 0) {
      std::error_code ec;
      co_await done.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }

  awaitable<void> users() {
    auto url_of = [this](std::uint64_t off) {
      return path("user-management", "v1", fmt::format("users?offset={}&max={}", off, s_.page_size));
    };
    auto first = co_await get(url_of(0));
    auto h = first.header_value("x-total-count");
    auto total = h ? bp::percipio::parse_total_count(*h) : std::nullopt;
    if (!total) die("users: no x-total-count");
    if (*total > s_.page_size) co_await fetch_offsets(*total - 1, url_of);
  }

  awaitable<void> catalog() {
    auto first = co_await get(
        path("content-discovery", "v2", fmt::format("catalog-content?offset=0&max={}", s_.page_size)));
    std::string paging_id(first.header_value("x-paging-request-id").value_or(""));
    std::optional<std::uint64_t> last;
    if (auto h = first.header_value("link")) last = bp::percipio::parse_link_last_offset(*h);
    if (!last) die("catalog: no Link rel=last");
    auto url_of = [this, &paging_id](std::uint64_t off) {
      std::string q = fmt::format("catalog-content?offset={}&max={}", off, s_.page_size);
      if (!paging_id.empty()) q += "&pagingRequestId=" + paging_id;
      return path("content-discovery", "v2", q);
    };
    co_await fetch_offsets(*last, url_of);
  }

  awaitable<void> report() {
    std::string id;
    {
      auto [lec, permit] = co_await lim_.async_acquire(bp::no_deadline);
      if (lec) die("limiter: " + lec.message());
      auto req = make("POST", path("reporting", "v1", "report-requests/learning-activity"));
      req.headers.push_back({"Content-Type", "application/json"});
      req.body = R"({"contentType":"Course,Assessment","start":"2016-01-01T00:00:00Z","end":"2030-01-01T00:00:00Z"})";
      ++requests;
      auto [ec, resp] = co_await http_.async_request(std::move(req), bp::no_deadline);
      if (ec || resp.status / 100 != 2) die("report POST failed");
      bytes += resp.body.size();
      auto st = bp::percipio::parse_report_status(resp.body, "floor");
      if (!st || st->id.empty()) die("report POST: no id");
      id = st->id;
    }
    const std::string url = path("reporting", "v1", "report-requests/" + id);
    auto delay = s_.poll_initial;
    for (;;) {
      asio::steady_timer t(co_await asio::this_coro::executor, delay);
      std::error_code tec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, tec));
      delay = std::max(delay * 2, std::chrono::milliseconds(1));
      auto [lec, permit] = co_await lim_.async_acquire(bp::no_deadline);
      if (lec) die("limiter: " + lec.message());
      ++requests;
      // Only the first bytes are looked at (array or status object), as the sync's sniffing does.
      std::string head;
      std::uint64_t n = 0;
      auto [ec, resp] = co_await http_.async_request(make("GET", url), bp::no_deadline,
                                                     [&](std::string_view chunk) -> std::error_code {
                                                       if (head.size() < 64) head.append(chunk.substr(0, 64));
                                                       n += chunk.size();
                                                       return {};
                                                     });
      if (ec || resp.status != 200) die("report poll failed");
      bytes += n;
      lim_.on_success();
      if (bp::percipio::classify_report_body(head) == bp::percipio::body_kind::array) co_return;
    }
  }

  const settings& s_;
  bp::net::client http_;
  bp::net::adaptive_limiter lim_;
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) die("missing value for " + std::string(a));
    const char* v = argv[++i];
    if (a == "--base-url") s.base_url = v;
    else if (a == "--org") s.org = v;
    else if (a == "--token") s.token = v;
    else if (a == "--concurrency") s.concurrency = std::strtoul(v, nullptr, 10);
    else if (a == "--rate-limit") {
      auto r = bp::parse_rate_limit(v);
      if (!r) die("--rate-limit must be N/DURATION such as 100/20s, or 0");
      s.rate_limit = *r;
    }
    else if (a == "--poll-initial-ms") s.poll_initial = std::chrono::milliseconds(std::atol(v));
    else if (a == "--page-size") s.page_size = std::strtoul(v, nullptr, 10);
    else die("unknown flag " + std::string(a));
  }
  if (s.base_url.empty() || s.org.empty() || s.token.empty()) die("--base-url, --org and --token are required");
  if (s.concurrency == 0) s.concurrency = 1;

  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  asio::io_context io;
  floor_client fc(io.get_executor(), s);
  std::exception_ptr err;
  asio::co_spawn(io, fc.run(), [&](std::exception_ptr e) { err = e; });
  io.run();
  if (err) std::rethrow_exception(err);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(R"({"wall_seconds":%.6f,"cpu_seconds":%.6f,"peak_rss_bytes":%ld,"requests":%llu,"bytes":%llu})" "\n",
              wall, cpu_seconds() - cpu0, ru.ru_maxrss * 1024L, static_cast<unsigned long long>(fc.requests),
              static_cast<unsigned long long>(fc.bytes));
  return 0;
}
