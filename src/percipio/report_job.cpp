#include "report_job.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <fmt/format.h>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/core/time_format.hpp"
#include "baton_percipio/net/error.hpp"
#include "client_impl.hpp"
#include "coro_tools.hpp"
#include "http_failure.hpp"
#include "report_download.hpp"

namespace bp::percipio::detail {

report_job::report_job(api_client::impl& m, bp::deadline d, rows_handler on_rows)
    : m_(m),
      d_(d),
      rd_(bp::step_deadline(d, m.cfg.report_timeout)),
      on_rows_(std::move(on_rows)),
      post_target_(m.org_path(reporting_service, "v1", "report-requests/learning-activity")) {}

failure report_job::timeout_failure() const {
  if (bp::steady_clock::now() >= d_ && d_ < rd_ + std::chrono::milliseconds(1))
    return make_failure(errc::deadline_exceeded, "report: sync deadline exceeded while waiting for the report");
  return make_failure(errc::report_timeout,
                      fmt::format("report: not ready within the report timeout ({} s)",
                                  std::chrono::duration_cast<std::chrono::seconds>(m_.cfg.report_timeout).count()));
}

// Retried only when no response arrived, on 502/503/504, or on 429 (the server refused it).
asio::awaitable<result<std::string>> report_job::post() {
  const auto& cfg = m_.cfg;
  const auto now = cfg.clock ? cfg.clock() : std::chrono::system_clock::now();
  std::string body = fmt::format(R"({{"contentType":"Course,Assessment","start":"{}","end":"{}"}})",
                                 time_format::rfc3339(now - cfg.report_lookback), time_format::rfc3339(now));
  int lost = 0;  // attempts without any response
  for (int attempt = 1;; ++attempt) {
    auto req = m_.make_request("POST", post_target_);
    if (!req) co_return make_failure(errc::upstream_failed, "report request: invalid base URL");
    req->headers.push_back({"Content-Type", "application/json"});
    req->body = body;
    std::pair<std::error_code, net::response> res;
    std::uint64_t sent_epoch = 0;
    {
      auto [lec, permit] = co_await m_.lim.async_acquire(rd_);
      if (lec) co_return timeout_failure();
      sent_epoch = m_.lim.epoch();
      ++m_.direct_requests;
      res = co_await m_.http.async_request(std::move(*req), rd_);
      if (res.second.first_byte_at) permit.release(*res.second.first_byte_at);  // counted from its answer
    }
    auto& [ec, resp] = res;
    m_.direct_bytes += resp.body.size();
    if (!ec && resp.status == 429) ++m_.direct_429;
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
      info.deadline = rd_;
      const auto dec = cfg.retry.decide(info);
      if (resp.status == 429) m_.lim.on_rate_limited(dec.delay, sent_epoch);
      // No job was created either way; lost requests are bounded by post_attempts, 429s by the
      // retry policy.
      if (ec || gateway) ++lost;
      if (lost < cfg.post_attempts && dec.action == net::retry_action::retry) {
        log::debug("report request retry", {{"attempt", attempt}, {"reason", dec.reason}});
        if (!co_await sleep_until(bp::step_deadline(rd_, dec.delay)))
          co_return make_failure(errc::cancelled, "report request: cancelled");
        continue;
      }
    }
    if (auto f = http_failure(ec, resp, "POST", post_target_, reporting_service, "report request", rd_))
      co_return std::move(*f);
    m_.lim.on_success();
    if (auto wait = net::quota_exhausted_wait(resp.headers, std::chrono::system_clock::now())) m_.lim.hold_for(*wait);
    auto st = parse_report_status(resp.body, "report request");
    if (!st) co_return st.error();
    if (st->state == report_state::failed)
      co_return make_failure(errc::report_failed, fmt::format("report request failed: {}", st->error));
    if (st->id.empty())
      co_return make_failure(errc::malformed_response, "report request: the response carried no report id");
    co_return std::move(st->id);
  }
}

asio::awaitable<result<report_summary>> report_job::run() {
  const auto& cfg = m_.cfg;
  for (int job = 1; job <= cfg.report_jobs; ++job) {
    auto id = co_await post();
    if (!id) co_return id.error();
    ++sum_.jobs;
    log::info("report requested", {{"report_id", *id}, {"job", job}});
    const std::string target = m_.org_path(reporting_service, "v1", "report-requests/" + net::url_encode(*id));
    auto delay = cfg.poll_initial;
    auto next_at = bp::step_deadline(rd_, delay);
    int bad_polls = 0, transient = 0, downloads = 0;
    bool new_job = false;
    while (!new_job) {
      if (!co_await sleep_until(next_at)) co_return make_failure(errc::cancelled, "report poll: cancelled");
      if (bp::steady_clock::now() >= rd_) co_return timeout_failure();
      delay = std::min(delay * 2, cfg.poll_max);
      next_at = bp::step_deadline(rd_, delay);
      ++m_.polls;
      poll_outcome out;
      {
        report_download dl(m_, target, rd_, on_rows_);
        out = co_await dl.run();
      }
      using K = poll_outcome::kind;
      switch (out.k) {
        case K::rows_done:
          sum_.rows = out.rows.rows;
          sum_.skipped_rows = out.rows.skipped_rows;
          sum_.bytes = out.rows.bytes;
          ++sum_.downloads;
          m_.lim.on_success();
          co_return sum_;
        case K::status:
          transient = 0;
          if (auto wait = net::quota_exhausted_wait(out.resp.headers, std::chrono::system_clock::now()))
            m_.lim.hold_for(*wait);
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
          ++sum_.downloads;
          log::warn("report download failed", {{"report_id", *id}, {"error", out.message}});
          if (cfg.on_report_restart) cfg.on_report_restart();
          if (++downloads >= cfg.download_attempts) {
            new_job = true;
            break;
          }
          next_at = bp::step_deadline(rd_, cfg.retry.backoff_cap(downloads, cfg.retry.base_delay));
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
          info.deadline = rd_;
          const auto dec = cfg.retry.decide(info);
          if (dec.rate_limited) {
            ++m_.direct_429;
            m_.lim.on_rate_limited(dec.delay, out.sent_epoch);
          }
          if (dec.action == net::retry_action::retry) {
            next_at = bp::step_deadline(rd_, dec.delay);
            break;
          }
          if (auto f = http_failure(out.ec, out.resp, "GET", target, reporting_service, "report poll", rd_))
            co_return std::move(*f);
          co_return make_failure(errc::upstream_failed, "report poll failed");
        }
      }
    }
  }
  co_return make_failure(errc::report_failed,
                         fmt::format("report: no usable report after {} job(s)", cfg.report_jobs));
}

}  // namespace bp::percipio::detail
