#include <algorithm>
#include <string>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/net/error.hpp"
#include "baton_percipio/net/http_date.hpp"
#include "baton_percipio/net/retry.hpp"

namespace bp::net {
namespace {

bool retryable_error(const std::error_code& ec) {
  if (ec.category() == net_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::timeout:
      case errc::connect_failed:
      case errc::connection_closed:
      case errc::truncated_body:
      case errc::protocol_error:
      case errc::decompress_failed:
      case errc::proxy_refused:         // proxies answer 502/503 while the destination is unreachable
      case errc::proxy_protocol_error:
        return true;
      default:
        return false;
    }
  }
  // Odd socket errors (reset, refused, unreachable) are transient more often than not.
  return ec.category() == std::system_category() || ec.category() == std::generic_category();
}

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

std::chrono::milliseconds retry_policy::backoff_cap(int attempt, std::chrono::milliseconds base) const {
  auto cap = base;
  for (int i = 1; i < attempt && cap < max_delay; ++i) cap *= 2;
  return std::min(cap, max_delay);
}

double retry_policy::draw() const {
  if (random) return std::clamp(random(), 0.0, 1.0);
  if (!rng_) rng_ = std::make_shared<std::mt19937_64>(seed != 0 ? seed : std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(*rng_);
}

decision retry_policy::decide(const attempt_info& info) const {
  decision d;
  std::string what;
  bool rate_headers_apply = false;
  if (info.ec && !info.bad_body) {
    if (!retryable_error(info.ec)) {
      d.action = retry_action::fail;
      d.reason = "not retryable: " + info.ec.message();
      return d;
    }
    if (!info.idempotent && info.ec != errc::connect_failed) {
      d.action = retry_action::fail;
      d.reason = "not retried (the request may have been processed): " + info.ec.message();
      return d;
    }
    what = info.ec.message();
    d.delay = std::chrono::milliseconds(
        static_cast<std::int64_t>(draw() * static_cast<double>(backoff_cap(info.attempt, base_delay).count())));
  } else if (info.status == 401 || info.status == 403) {
    d.action = retry_action::auth_failure;
    d.reason = info.status == 401 ? "401: token invalid, expired or deactivated"
                                  : "403: the service account lacks permission for this API or organization";
    return d;
  } else if (info.status == 429 || info.status >= 500 || info.status == 408) {
    what = "HTTP " + std::to_string(info.status);
    rate_headers_apply = info.status == 429 || info.status == 503;
    if (info.status == 429) {
      d.rate_limited = true;
      // No header: wait at least half the cap, so a 429 is never retried at once.
      auto cap = backoff_cap(info.attempt, rate_limit_base);
      d.delay = cap / 2 + std::chrono::milliseconds(static_cast<std::int64_t>(
                              draw() * static_cast<double>((cap - cap / 2).count())));
    } else {
      d.delay = std::chrono::milliseconds(
          static_cast<std::int64_t>(draw() * static_cast<double>(backoff_cap(info.attempt, base_delay).count())));
    }
  } else if (info.status >= 200 && info.status < 300 && info.bad_body) {
    what = "bad body" + (info.ec ? ": " + info.ec.message() : std::string());
    d.delay = std::chrono::milliseconds(
        static_cast<std::int64_t>(draw() * static_cast<double>(backoff_cap(info.attempt, base_delay).count())));
  } else if (info.status >= 200 && info.status < 300) {
    d.action = retry_action::success;
    d.reason = "ok";
    return d;
  } else {
    d.action = retry_action::fail;
    d.reason = "not retryable: HTTP " + std::to_string(info.status);
    return d;
  }

  if (rate_headers_apply) {
    std::optional<std::chrono::milliseconds> server_wait;
    if (auto v = find_header(info.headers, "Retry-After")) {
      server_wait = parse_retry_after(*v, info.now);
      if (server_wait) what += ", Retry-After";
    }
    if (!server_wait) {
      for (std::string_view name : {"X-RateLimit-Reset", "RateLimit-Reset"}) {
        if (auto v = find_header(info.headers, name)) {
          server_wait = parse_rate_limit_reset(*v, info.now);
          if (server_wait) {
            what += ", ";
            what += name;
            break;
          }
        }
      }
    }
    if (server_wait) {
      d.delay = std::min(*server_wait, max_retry_after);
      if (info.status == 503) d.rate_limited = true;
    }
  }

  const bool answer_429 = !info.ec && info.status == 429;
  if (answer_429) {
    const int seen = std::max(info.rate_limited, 1);
    if (max_rate_limited_attempts > 0 && seen >= max_rate_limited_attempts) {
      d.action = retry_action::give_up;
      d.reason = what + ": giving up after " + std::to_string(seen) + " rate-limited answers";
      return d;
    }
  } else if (info.attempt - info.rate_limited >= max_attempts) {
    d.action = retry_action::give_up;
    d.reason = what + ": giving up after " + std::to_string(info.attempt) + " attempts";
    return d;
  }
  if (info.deadline != bp::no_deadline && info.steady_now + d.delay > info.deadline) {
    d.action = retry_action::give_up;
    d.reason = what + ": a wait of " + ms_text(d.delay) + " would pass the deadline";
    return d;
  }
  d.action = retry_action::retry;
  d.reason = what + ": retry " + std::to_string(info.attempt + 1) + " in " + ms_text(d.delay);
  return d;
}

std::optional<std::chrono::milliseconds> quota_exhausted_wait(std::span<const header> headers, sys_time now) {
  struct names {
    std::string_view remaining, reset;
  };
  for (const names n : {names{"X-RateLimit-Remaining", "X-RateLimit-Reset"}, names{"RateLimit-Remaining", "RateLimit-Reset"}}) {
    auto remaining = find_header(headers, n.remaining);
    if (!remaining) continue;
    if (ascii::trim(*remaining) != "0") return std::nullopt;  // quota left, or a value we do not understand
    auto reset = find_header(headers, n.reset);
    if (!reset) return std::nullopt;
    return parse_rate_limit_reset(*reset, now);
  }
  return std::nullopt;
}

}  // namespace bp::net
