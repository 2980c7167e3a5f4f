#include "baton_percipio/percipio/api_client.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames (the same warning the
// tests silence); which function trips it changes with unrelated edits.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <fmt/format.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <ctime>
#include <deque>
#include <optional>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/error.hpp"
#include "baton_percipio/net/task_group.hpp"
#include "baton_percipio/percipio/headers.hpp"
#include "baton_percipio/percipio/parse.hpp"
#include "baton_percipio/percipio/report_stream_parser.hpp"

namespace bp::percipio {
namespace {

using asio::awaitable;
using asio::use_awaitable;

constexpr const char* users_service = "user-management";
constexpr const char* content_service = "content-discovery";
constexpr const char* reporting_service = "reporting";

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

bool detail_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

// False when the wait was cancelled: the caller ends instead of going on.
awaitable<bool> sleep_until(bp::steady_clock::time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  std::error_code ec;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  co_return ec != asio::error::operation_aborted;
}

// Runs n copies of `worker` concurrently and waits for all of them, also when this coroutine is
// cancelled (the workers are cancelled first): workers may use the caller's frame. Workers report
// expected failures through shared state; an exception (a bug) is rethrown after all have finished.
awaitable<void> run_workers(std::size_t n, std::function<awaitable<void>()> worker) {
  net::task_group group(co_await asio::this_coro::executor);
  group.cancel_on_first_error(true);
  std::exception_ptr spawn_error;
  try {
    for (std::size_t i = 0; i < n; ++i) group.spawn(worker());
  } catch (...) {
    spawn_error = std::current_exception();
    group.cancel();
  }
  co_await group.join();
  if (spawn_error) std::rethrow_exception(spawn_error);
}

}  // namespace

struct api_client::impl {
  asio::any_io_executor ex;
  net::client& http;
  client_config cfg;
  net::adaptive_limiter lim;
  net::retry_stats rs;
  std::uint64_t pages = 0;
  std::uint64_t polls = 0;
  std::uint64_t direct_requests = 0;
  std::uint64_t direct_bytes = 0;
  std::uint64_t direct_429 = 0;

  impl(asio::any_io_executor e, net::client& h, client_config c)
      : ex(e), http(h), cfg(std::move(c)), lim(e, limiter_opts(cfg)) {
    while (!cfg.base_url.empty() && cfg.base_url.back() == '/') cfg.base_url.pop_back();
    if (cfg.page_size == 0) cfg.page_size = 1000;
    if (cfg.concurrency == 0) cfg.concurrency = 1;
    if (!cfg.token.empty()) log::add_secret(cfg.token);
  }

  static net::limiter_options limiter_opts(const client_config& c) {
    net::limiter_options o;
    o.max_concurrency = std::max<std::size_t>(1, c.concurrency);
    o.budget_requests = c.rate_limit.requests;
    o.budget_window = c.rate_limit.window;
    return o;
  }

  std::string org_path(const char* service, std::string_view version, std::string_view rest) const {
    return fmt::format("/{}/{}/organizations/{}/{}", service, version, url_encode(cfg.org_id), rest);
  }

  std::optional<net::request> make_request(std::string method, const std::string& target) const {
    auto u = net::url::parse(cfg.base_url + target);
    if (!u) return std::nullopt;
    net::request r;
    r.method = std::move(method);
    r.u = std::move(*u);
    r.headers.push_back({"Authorization", "Bearer " + cfg.token});
    r.headers.push_back({"Accept", "application/json"});
    r.headers.push_back({"Cache-Control", "no-cache"});  // polls must never see a stale body
    return r;
  }

  static std::string endpoint_of(std::string_view method, std::string_view target) {
    return fmt::format("{} {}", method, target.substr(0, target.find('?')));
  }

  // Maps a final HTTP outcome to a failure; nullopt for a 2xx without transport error.
  std::optional<failure> http_failure(const std::error_code& ec, const net::response& resp, std::string_view method,
                                      std::string_view target, const char* service, std::string_view context,
                                      bp::deadline d) const {
    const std::string endpoint = endpoint_of(method, target);
    if (ec) {
      if (ec == net::errc::cancelled) return make_failure(errc::cancelled, fmt::format("{}: cancelled", context));
      if (bp::steady_clock::now() >= d)
        return make_failure(errc::deadline_exceeded, fmt::format("{}: deadline exceeded ({})", context, endpoint));
      std::string detail = resp.error_detail.empty() ? "" : fmt::format(" ({})", resp.error_detail);
      return make_failure(errc::upstream_failed,
                          fmt::format("{}: request to {} failed: {}{}", context, endpoint, ec.message(), detail));
    }
    const int st = resp.status;
    if (st >= 200 && st < 300) return std::nullopt;
    if (st == 401)
      return make_failure(errc::auth_failed,
                          fmt::format("authentication failed: the API token was rejected (401) by {}", endpoint));
    if (st == 403)
      return make_failure(errc::permission_denied,
                          fmt::format("permission denied (403) by {}: the service account lacks access to {} or the "
                                      "organization id is wrong",
                                      endpoint, service));
    const std::string summary = summarize_error_body(resp.body);
    if (st == 404)
      return make_failure(errc::not_found, fmt::format("{}: not found (404) at {}; check the organization id{}{}",
                                                       context, endpoint, summary.empty() ? "" : ": ", summary));
    return make_failure(errc::upstream_failed, fmt::format("{}: HTTP {} from {}{}{}", context, st, endpoint,
                                                           summary.empty() ? "" : ": ", summary));
  }

  template <class T>
  struct fetched {
    page<T> pg;
    std::vector<net::header> headers;
  };

  // GET one JSON array page with retries; a 2xx whose body does not parse is retried too.
  template <class T>
  awaitable<result<fetched<T>>> get_page(std::string target, std::string context, const char* service,
                                         bp::deadline d,
                                         result<page<T>> (*parse)(std::string_view, std::string_view)) {
    auto req = make_request("GET", target);
    if (!req) co_return make_failure(errc::upstream_failed, fmt::format("{}: invalid base URL", context));
    std::optional<result<page<T>>> parsed;
    net::response_validator validate = [&](const net::response& r) -> std::error_code {
      parsed.emplace(parse(r.body, context));
      return parsed->ok() ? std::error_code{} : make_error_code(errc::malformed_response);
    };
    auto [ec, resp] = co_await net::async_request_with_retry(http, std::move(*req), d, cfg.retry, &lim, rs, validate);
    if (ec == errc::malformed_response && parsed && !parsed->ok()) co_return parsed->error();
    if (auto f = http_failure(ec, resp, "GET", target, service, context, d)) co_return std::move(*f);
    if (!parsed) co_return make_failure(errc::malformed_response, fmt::format("{}: no body", context));
    if (!parsed->ok()) co_return parsed->error();
    ++pages;
    co_return fetched<T>{std::move(parsed->value()), std::move(resp.headers)};
  }

  static std::optional<std::string_view> header(const std::vector<net::header>& h, std::string_view name) {
    return net::find_header(h, name);
  }

  // Fetches `offsets` (ascending) with up to cfg.concurrency workers.
  template <class T>
  awaitable<std::optional<failure>> fetch_offsets(std::vector<std::uint64_t> offsets,
                                                  std::function<std::string(std::uint64_t)> target_of,
                                                  const char* what, const char* service, bp::deadline d,
                                                  result<page<T>> (*parse)(std::string_view, std::string_view),
                                                  const page_handler<T>& on_page, list_summary& sum) {
    std::size_t next = 0;
    std::optional<failure> failed;
    const std::size_t workers = std::min(cfg.concurrency, offsets.size());
    if (workers == 0) co_return std::nullopt;
    co_await run_workers(workers, [&]() -> awaitable<void> {
      while (!failed && next < offsets.size()) {
        const std::uint64_t off = offsets[next++];
        auto r = co_await get_page<T>(target_of(off), fmt::format("{} offset={}", what, off), service, d, parse);
        if (!r) {
          if (!failed) failed = r.error();
          co_return;
        }
        if (r->pg.elements < cfg.page_size && off + cfg.page_size <= offsets.back())
          log::warn("short page before the last offset", {{"list", what}, {"offset", off},
                                                          {"elements", r->pg.elements}});
        ++sum.pages;
        sum.items += r->pg.items.size();
        co_await on_page(std::move(r->pg.items));
      }
    });
    co_return failed;
  }
};

api_client::api_client(asio::any_io_executor ex, net::client& http, client_config cfg)
    : impl_(std::make_unique<impl>(ex, http, std::move(cfg))) {}

api_client::~api_client() = default;

net::adaptive_limiter& api_client::limiter() { return impl_->lim; }

api_counters api_client::counters() const {
  const auto& m = *impl_;
  api_counters c;
  c.requests = m.rs.attempts.load() + m.direct_requests;
  c.retries = m.rs.retries.load();
  c.rate_limited = m.rs.rate_limited.load() + m.direct_429;
  c.bytes = m.rs.bytes_received.load() + m.direct_bytes;
  c.pages = m.pages;
  c.report_polls = m.polls;
  return c;
}

awaitable<result<list_summary>> api_client::async_list_users(bp::deadline d, page_handler<user> on_page) {
  auto& m = *impl_;
  const std::size_t ps = m.cfg.page_size;
  auto target_of = [&m, ps](std::uint64_t off) {
    return m.org_path(users_service, "v1", fmt::format("users?offset={}&max={}", off, ps));
  };
  list_summary sum;
  auto first = co_await m.get_page<user>(target_of(0), "users page offset=0", users_service, d, &parse_users_page);
  if (!first) co_return first.error();
  const auto total = [&]() -> std::optional<std::uint64_t> {
    if (auto h = impl::header(first->headers, "x-total-count")) return parse_total_count(*h);
    return std::nullopt;
  }();
  std::size_t last_elements = first->pg.elements;
  ++sum.pages;
  sum.items += first->pg.items.size();
  co_await on_page(std::move(first->pg.items));
  if (total) {
    std::vector<std::uint64_t> offsets;
    for (std::uint64_t off = ps; off < *total; off += ps) offsets.push_back(off);
    if (auto f = co_await m.fetch_offsets<user>(std::move(offsets), target_of, "users page", users_service, d,
                                                &parse_users_page, on_page, sum))
      co_return std::move(*f);
    co_return sum;
  }
  log::debug("users: no usable x-total-count; paging until a short page");
  for (std::uint64_t off = ps; last_elements >= ps; off += ps) {
    auto r = co_await m.get_page<user>(target_of(off), fmt::format("users page offset={}", off), users_service, d,
                                       &parse_users_page);
    if (!r) co_return r.error();
    last_elements = r->pg.elements;
    ++sum.pages;
    sum.items += r->pg.items.size();
    co_await on_page(std::move(r->pg.items));
  }
  co_return sum;
}

awaitable<result<list_summary>> api_client::async_list_catalog(bp::deadline d, page_handler<content_item> on_page) {
  auto& m = *impl_;
  const std::size_t ps = m.cfg.page_size;
  list_summary sum;
  // Page 1 without pagingRequestId: a blank id breaks paging since April 2025 (spec 3.4).
  const std::string first_target =
      m.org_path(content_service, "v2", fmt::format("catalog-content?offset=0&max={}", ps));
  auto first = co_await m.get_page<content_item>(first_target, "catalog page offset=0", content_service, d,
                                                 &parse_catalog_page);
  if (!first) co_return first.error();
  std::string paging_id;
  if (auto h = impl::header(first->headers, "x-paging-request-id")) paging_id = std::string(*h);
  std::optional<std::uint64_t> last_offset;
  if (auto h = impl::header(first->headers, "link")) last_offset = parse_link_last_offset(*h);
  if (!last_offset) {
    if (auto h = impl::header(first->headers, "x-total-count")) {
      if (auto t = parse_total_count(*h)) last_offset = *t == 0 ? 0 : ((*t - 1) / ps) * ps;
    }
  }
  std::size_t last_elements = first->pg.elements;
  ++sum.pages;
  sum.items += first->pg.items.size();
  co_await on_page(std::move(first->pg.items));

  auto target_of = [&m, ps, &paging_id](std::uint64_t off) {
    std::string q = fmt::format("catalog-content?offset={}&max={}", off, ps);
    if (!paging_id.empty()) q += "&pagingRequestId=" + url_encode(paging_id);
    return m.org_path(content_service, "v2", q);
  };
  if (last_offset) {
    std::vector<std::uint64_t> offsets;
    for (std::uint64_t off = ps; off <= *last_offset; off += ps) offsets.push_back(off);
    if (!offsets.empty() && paging_id.empty())
      log::warn("catalog: first page had no x-paging-request-id; later pages are requested without one");
    if (auto f = co_await m.fetch_offsets<content_item>(std::move(offsets), target_of, "catalog page",
                                                        content_service, d, &parse_catalog_page, on_page, sum))
      co_return std::move(*f);
    co_return sum;
  }
  log::debug("catalog: neither Link rel=last nor x-total-count; paging until a short page");
  for (std::uint64_t off = ps; last_elements >= ps; off += ps) {
    auto r = co_await m.get_page<content_item>(target_of(off), fmt::format("catalog page offset={}", off),
                                               content_service, d, &parse_catalog_page);
    if (!r) co_return r.error();
    if (paging_id.empty()) {
      if (auto h = impl::header(r->headers, "x-paging-request-id")) paging_id = std::string(*h);
    }
    last_elements = r->pg.elements;
    ++sum.pages;
    sum.items += r->pg.items.size();
    co_await on_page(std::move(r->pg.items));
  }
  co_return sum;
}

awaitable<result<lookup_result>> api_client::async_lookup_courses(std::vector<std::string> ids, bp::deadline d) {
  auto& m = *impl_;
  std::vector<std::optional<content_item>> found(ids.size());
  std::size_t next = 0;
  std::optional<failure> failed;
  const std::size_t workers = std::min(m.cfg.concurrency, ids.size());
  if (workers > 0) {
    co_await run_workers(workers, [&]() -> awaitable<void> {
      while (!failed && next < ids.size()) {
        const std::size_t i = next++;
        const std::string target = m.org_path(
            content_service, "v1", fmt::format("search-content?q={}&typeFilter=COURSE%2CASSESSMENT", url_encode(ids[i])));
        auto r = co_await m.get_page<content_item>(target, fmt::format("search q={}", ids[i]), content_service, d,
                                                   &parse_search_results);
        if (!r) {
          if (!failed) failed = r.error();
          co_return;
        }
        for (auto& item : r->pg.items) {
          if (detail_iequal(item.id, ids[i])) {
            found[i] = std::move(item);
            break;
          }
        }
      }
    });
  }
  if (failed) co_return std::move(*failed);
  lookup_result out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (found[i]) out.items.push_back(std::move(*found[i]));
    else out.not_found.push_back(ids[i]);
  }
  co_return out;
}

namespace {

// One poll/download GET: the body is sniffed; a report array is streamed through the parser, any
// other body (status object, error page) is buffered (bounded).
struct poll_outcome {
  enum class kind { rows_done, status, empty, malformed, bad_array, too_large, http, transport } k = kind::transport;
  report_status status;
  std::string message;
  std::error_code ec;
  net::response resp;  // headers/status (body only when buffered)
  std::uint64_t sent_epoch = 0;  // the limiter's epoch when the GET got its permit
};

constexpr std::size_t sniff_limit = 256 * 1024;       // error pages and status objects fit below this
constexpr std::size_t max_buffered_body = 4u << 20;  // a non-array body larger than this is malformed

}  // namespace

awaitable<result<report_summary>> api_client::async_report(bp::deadline d, rows_handler on_rows) {
  using namespace asio::experimental::awaitable_operators;
  auto& m = *impl_;
  const auto& cfg = m.cfg;
  const bp::deadline rd = bp::step_deadline(d, cfg.report_timeout);
  report_summary sum;
  const std::string post_target = m.org_path(reporting_service, "v1", "report-requests/learning-activity");

  auto timeout_failure = [&]() {
    if (bp::steady_clock::now() >= d && d < rd + std::chrono::milliseconds(1))
      return make_failure(errc::deadline_exceeded, "report: sync deadline exceeded while waiting for the report");
    return make_failure(errc::report_timeout,
                        fmt::format("report: not ready within the report timeout ({} s)",
                                    std::chrono::duration_cast<std::chrono::seconds>(cfg.report_timeout).count()));
  };

  // POST a new job; retried only when no response arrived, on 502/503/504, or on 429 (the server
  // refused it).
  auto post = [&]() -> awaitable<result<std::string>> {
    const auto now = cfg.clock ? cfg.clock() : std::chrono::system_clock::now();
    std::string body = fmt::format(R"({{"contentType":"Course,Assessment","start":"{}","end":"{}"}})",
                                   rfc3339(now - cfg.report_lookback), rfc3339(now));
    int lost = 0;  // attempts without any response
    for (int attempt = 1;; ++attempt) {
      auto req = m.make_request("POST", post_target);
      if (!req) co_return make_failure(errc::upstream_failed, "report request: invalid base URL");
      req->headers.push_back({"Content-Type", "application/json"});
      req->body = body;
      std::pair<std::error_code, net::response> res;
      std::uint64_t sent_epoch = 0;
      {
        auto [lec, permit] = co_await m.lim.async_acquire(rd);
        if (lec) co_return timeout_failure();
        sent_epoch = m.lim.epoch();
        ++m.direct_requests;
        res = co_await m.http.async_request(std::move(*req), rd);
      }
      auto& [ec, resp] = res;
      m.direct_bytes += resp.body.size();
      if (!ec && resp.status == 429) ++m.direct_429;
      // A gateway error almost always means the POST never reached Percipio's application: retried
      // like a lost request.
      const bool gateway = !ec && (resp.status == 502 || resp.status == 503 || resp.status == 504);
      if (ec || resp.status == 429 || gateway) {
        if (ec == net::errc::cancelled) co_return make_failure(errc::cancelled, "report request: cancelled");
        net::attempt_info info;
        info.attempt = attempt;
        info.ec = ec;
        info.status = ec ? 0 : resp.status;
        info.headers = resp.headers;
        info.deadline = rd;
        const auto dec = cfg.retry.decide(info);
        if (resp.status == 429) m.lim.on_rate_limited(dec.delay, sent_epoch);
        // No job was created either way; lost requests are bounded by post_attempts, 429s by the
        // retry policy.
        if (ec || gateway) ++lost;
        if (lost < cfg.post_attempts && dec.action == net::retry_action::retry) {
          log::debug("report request retry", {{"attempt", attempt}, {"reason", dec.reason}});
          if (!co_await sleep_until(bp::step_deadline(rd, dec.delay)))
            co_return make_failure(errc::cancelled, "report request: cancelled");
          continue;
        }
      }
      if (auto f = m.http_failure(ec, resp, "POST", post_target, reporting_service, "report request", rd))
        co_return std::move(*f);
      m.lim.on_success();
      if (auto wait = net::quota_exhausted_wait(resp.headers, std::chrono::system_clock::now())) m.lim.hold_for(*wait);
      auto st = parse_report_status(resp.body, "report request");
      if (!st) co_return st.error();
      if (st->state == report_state::failed)
        co_return make_failure(errc::report_failed, fmt::format("report request failed: {}", st->error));
      if (st->id.empty())
        co_return make_failure(errc::malformed_response, "report request: the response carried no report id");
      co_return std::move(st->id);
    }
  };

  // One GET of the report URL; rows go to on_rows while the body streams in.
  auto poll_once = [&](const std::string& target) -> awaitable<poll_outcome> {
    poll_outcome out;
    std::string prefix;
    bool streaming = false;
    std::optional<failure> parse_failure;
    std::deque<std::vector<report_row>> pending;
    bool download_done = false;
    asio::steady_timer wake(m.ex, bp::steady_clock::time_point::max());
    report_stream_parser parser(
        [&](std::span<const report_row> rows) {
          pending.emplace_back(rows.begin(), rows.end());
          wake.cancel();
        },
        "report " + target.substr(target.rfind('/') + 1));
    std::uint64_t received = 0;
    bool too_large = false;
    net::body_sink sink = [&](std::string_view chunk) -> std::error_code {
      received += chunk.size();
      if (cfg.max_report_bytes != 0 && received > cfg.max_report_bytes) {
        too_large = true;  // an endless or oversized body: stop reading, fail without retrying
        return make_error_code(errc::report_failed);
      }
      if (!streaming) {
        prefix.append(chunk);
        const body_kind k = classify_report_body(prefix);
        if (k == body_kind::array && prefix.size() >= sniff_limit) {
          streaming = true;
          chunk = prefix;
        } else {
          if (prefix.size() > max_buffered_body) return make_error_code(errc::malformed_response);
          return {};
        }
      }
      auto r = parser.feed(chunk);
      if (streaming && !prefix.empty()) prefix.clear();
      if (!r) {
        parse_failure = r.error();
        return make_error_code(errc::malformed_response);
      }
      return {};
    };
    // Backpressure: the download pauses while this many parsed batches (about 4096 rows each) wait
    // for on_rows, so a report of any size needs bounded memory when the consumer is slower.
    constexpr std::size_t max_pending_batches = 4;
    asio::steady_timer space(m.ex, bp::steady_clock::time_point::max());
    net::read_gate gate = [&]() -> awaitable<void> {
      while (pending.size() >= max_pending_batches) {
        space.expires_at(bp::steady_clock::time_point::max());
        std::error_code ec;
        co_await space.async_wait(asio::redirect_error(use_awaitable, ec));
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none)
          throw std::system_error(make_error_code(asio::error::operation_aborted));
      }
    };
    auto download = [&]() -> awaitable<void> {
      auto req = m.make_request("GET", target);
      std::pair<std::error_code, net::response> res;
      if (req) {
        auto [lec, permit] = co_await m.lim.async_acquire(rd);
        if (lec) {
          res.first = lec;
        } else {
          ++m.direct_requests;
          out.sent_epoch = m.lim.epoch();
          res = co_await m.http.async_request(std::move(*req), rd, sink, gate);
        }
      }
      out.ec = res.first;
      out.resp = std::move(res.second);
      download_done = true;
      wake.cancel();
    };
    auto consume = [&]() -> awaitable<void> {
      for (;;) {
        while (!pending.empty()) {
          auto batch = std::move(pending.front());
          pending.pop_front();
          space.cancel();  // wakes a download waiting in `gate`
          co_await on_rows(std::span<const report_row>(batch));
        }
        if (download_done) break;
        std::error_code ec;
        wake.expires_at(bp::steady_clock::time_point::max());
        if (!pending.empty()) continue;
        co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
      }
    };
    co_await (download() && consume());
    const auto& st = parser.statistics();
    m.direct_bytes += st.bytes + prefix.size();
    const int status = out.resp.status;
    const bool ok_status = !out.ec && status >= 200 && status < 300;
    auto finish_rows = [&]() {
      auto r = parser.finish();
      if (!r) {
        out.k = poll_outcome::kind::bad_array;
        out.message = r.error().message;
        return;
      }
      // Rows flushed by finish() are delivered by the caller's drain below.
      out.k = poll_outcome::kind::rows_done;
    };
    if (too_large) {
      out.k = poll_outcome::kind::too_large;
      out.message = fmt::format("report larger than max-report-bytes ({} bytes); raise --max-report-bytes",
                                cfg.max_report_bytes);
    } else if (parse_failure) {
      out.k = poll_outcome::kind::bad_array;
      out.message = parse_failure->message;
    } else if (streaming) {
      if (ok_status) finish_rows();
      else if (out.ec) {
        out.k = poll_outcome::kind::bad_array;
        out.message = fmt::format("report download interrupted: {}", out.ec.message());
      } else {
        out.k = poll_outcome::kind::http;
      }
    } else if (out.ec) {
      out.k = poll_outcome::kind::transport;
      if (classify_report_body(prefix) == body_kind::array) {
        out.k = poll_outcome::kind::bad_array;
        out.message = fmt::format("report download interrupted: {}", out.ec.message());
      }
    } else if (!ok_status) {
      out.k = poll_outcome::kind::http;
      out.resp.body = std::move(prefix);
    } else {
      switch (classify_report_body(prefix)) {
        case body_kind::array: {
          auto r = parser.feed(prefix);
          if (!r) {
            out.k = poll_outcome::kind::bad_array;
            out.message = r.error().message;
          } else {
            finish_rows();
          }
          break;
        }
        case body_kind::object: {
          auto s = parse_report_status(prefix, "report poll");
          if (s) {
            out.k = poll_outcome::kind::status;
            out.status = std::move(*s);
          } else {
            out.k = poll_outcome::kind::malformed;
            out.message = s.error().message;
          }
          break;
        }
        case body_kind::empty: out.k = poll_outcome::kind::empty; break;
        case body_kind::malformed:
          out.k = poll_outcome::kind::malformed;
          out.message = fmt::format("report poll: 200 with a non-JSON body: {}", summarize_error_body(prefix, 80));
          break;
      }
    }
    // Rows produced after the consumer stopped (finish(), or a buffered small array).
    while (!pending.empty()) {
      auto batch = std::move(pending.front());
      pending.pop_front();
      co_await on_rows(std::span<const report_row>(batch));
    }
    if (out.k == poll_outcome::kind::rows_done) {
      sum.rows = st.rows;
      sum.skipped_rows = st.skipped_rows;
      sum.bytes = st.bytes;
    }
    co_return out;
  };

  for (int job = 1; job <= cfg.report_jobs; ++job) {
    auto id = co_await post();
    if (!id) co_return id.error();
    ++sum.jobs;
    log::info("report requested", {{"report_id", *id}, {"job", job}});
    const std::string target = m.org_path(reporting_service, "v1", "report-requests/" + url_encode(*id));
    auto delay = cfg.poll_initial;
    auto next_at = bp::step_deadline(rd, delay);
    int bad_polls = 0, transient = 0, downloads = 0;
    bool new_job = false;
    while (!new_job) {
      if (!co_await sleep_until(next_at)) co_return make_failure(errc::cancelled, "report poll: cancelled");
      if (bp::steady_clock::now() >= rd) co_return timeout_failure();
      delay = std::min(delay * 2, cfg.poll_max);
      next_at = bp::step_deadline(rd, delay);
      ++m.polls;
      auto out = co_await poll_once(target);
      using K = poll_outcome::kind;
      switch (out.k) {
        case K::rows_done:
          ++sum.downloads;
          m.lim.on_success();
          co_return sum;
        case K::status:
          transient = 0;
          if (auto wait = net::quota_exhausted_wait(out.resp.headers, std::chrono::system_clock::now()))
            m.lim.hold_for(*wait);
          if (out.status.state == report_state::failed)
            co_return make_failure(errc::report_failed,
                                   fmt::format("report {} FAILED{}{}", *id, out.status.error.empty() ? "" : ": ",
                                               out.status.error));
          if (out.status.state == report_state::pending || out.status.state == report_state::in_progress) {
            bad_polls = 0;
          } else if (++bad_polls > cfg.max_bad_polls) {
            co_return make_failure(errc::report_failed,
                                   fmt::format("report {}: status '{}' without data", *id, out.status.status));
          }
          break;
        case K::empty:
        case K::malformed:
          transient = 0;
          if (++bad_polls > cfg.max_bad_polls)
            co_return make_failure(errc::malformed_response,
                                   out.message.empty() ? fmt::format("report {}: empty bodies", *id) : out.message);
          break;
        case K::too_large:
          co_return make_failure(errc::report_failed, fmt::format("report {}: {}", *id, out.message));
        case K::bad_array:
          ++sum.downloads;
          log::warn("report download failed", {{"report_id", *id}, {"error", out.message}});
          if (cfg.on_report_restart) cfg.on_report_restart();
          if (++downloads >= cfg.download_attempts) {
            new_job = true;
            break;
          }
          next_at = bp::step_deadline(rd, cfg.retry.backoff_cap(downloads, cfg.retry.base_delay));
          break;
        case K::http:
        case K::transport: {
          if (out.k == K::http && out.resp.status == 404) {
            log::warn("report id unknown or expired (404); requesting a new report", {{"report_id", *id}});
            new_job = true;
            break;
          }
          if (out.ec == net::errc::cancelled) co_return make_failure(errc::cancelled, "report poll: cancelled");
          net::attempt_info info;
          info.attempt = ++transient;
          info.ec = out.ec;
          info.status = out.ec ? 0 : out.resp.status;
          info.headers = out.resp.headers;
          info.deadline = rd;
          const auto dec = cfg.retry.decide(info);
          if (dec.rate_limited) {
            ++m.direct_429;
            m.lim.on_rate_limited(dec.delay, out.sent_epoch);
          }
          if (dec.action == net::retry_action::retry) {
            next_at = bp::step_deadline(rd, dec.delay);
            break;
          }
          if (auto f = m.http_failure(out.ec, out.resp, "GET", target, reporting_service, "report poll", rd))
            co_return std::move(*f);
          co_return make_failure(errc::upstream_failed, "report poll failed");
        }
      }
    }
  }
  co_return make_failure(errc::report_failed,
                         fmt::format("report: no usable report after {} job(s)", cfg.report_jobs));
}

}  // namespace bp::percipio
