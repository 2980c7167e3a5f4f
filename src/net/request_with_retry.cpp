#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/error.hpp"
#include "baton_percipio/net/retry.hpp"

namespace bp::net {

asio::awaitable<std::pair<std::error_code, response>> async_request_with_retry(
    client& c, request req, bp::deadline d, const retry_policy& policy, adaptive_limiter* limiter,
    retry_stats& stats, response_validator validate) {
  constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
  int rate_limited = 0;  // 429 answers so far: they do not use up max_attempts
  for (int attempt = 1;; ++attempt) {
    std::pair<std::error_code, response> result;
    std::uint64_t sent_epoch = 0;
    {
      adaptive_limiter::permit permit;
      if (limiter != nullptr) {
        auto [lec, p] = co_await limiter->async_acquire(d);
        if (lec) co_return std::pair{lec, response{}};
        permit = std::move(p);
        sent_epoch = limiter->epoch();
      }
      ++stats.attempts;
      result = co_await c.async_request(req, d);
      // The budget counts an answered request from its answer's first byte, not its end.
      if (result.second.first_byte_at) permit.release(*result.second.first_byte_at);
    }  // the permit is released before any backoff wait (and before the body is validated)
    auto& [ec, resp] = result;
    stats.bytes_received += resp.body.size();

    attempt_info info;
    info.attempt = attempt;
    info.ec = ec;
    info.status = ec ? 0 : resp.status;
    info.headers = resp.headers;
    info.deadline = d;
    info.idempotent = req.method != "POST" && req.method != "PATCH";
    if (!ec && resp.status >= 200 && resp.status < 300 && validate) {
      if (auto vec = validate(resp)) {
        info.ec = vec;
        info.bad_body = true;
        ++stats.bad_bodies;
      }
    }
    if (ec) {
      ++stats.transport_errors;
    } else if (resp.status == 429) {
      ++stats.rate_limited;
      ++rate_limited;
    } else if (resp.status >= 500) {
      ++stats.server_errors;
    }
    info.rate_limited = rate_limited;
    decision dec = policy.decide(info);
    if (limiter != nullptr) {
      if (dec.rate_limited) {
        limiter->on_rate_limited(dec.delay, sent_epoch);
      } else if (dec.action == retry_action::success) {
        limiter->on_success();
        if (auto wait = quota_exhausted_wait(resp.headers, info.now)) limiter->hold_for(*wait);
      }
    }
    switch (dec.action) {
      case retry_action::success:
      case retry_action::fail:
        co_return std::move(result);
      case retry_action::auth_failure:
        ++stats.auth_failures;
        co_return std::move(result);
      case retry_action::give_up:
        log::debug("http giving up", {{"method", req.method}, {"url", req.u.origin()}, {"reason", dec.reason}});
        if (info.bad_body) result.first = info.ec;
        co_return std::move(result);
      case retry_action::retry:
        break;
    }
    ++stats.retries;
    log::debug("http retry", {{"method", req.method},
                              {"url", req.u.origin()},
                              {"attempt", attempt},
                              {"delay_ms", static_cast<std::int64_t>(dec.delay.count())},
                              {"reason", dec.reason}});
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_at(bp::step_deadline(d, dec.delay));
    std::error_code tec;
    try {
      std::tie(tec) = co_await timer.async_wait(tuple_awaitable);
    } catch (const std::system_error& e) {
      tec = e.code();
    }
    if (tec == asio::error::operation_aborted) co_return std::pair{make_error_code(errc::cancelled), response{}};
  }
}

}  // namespace bp::net
