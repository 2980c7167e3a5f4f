#pragma once
// Retry building blocks: a pure retry policy (testable on virtual time), counters, and a request
// loop that combines the client, the policy and the shared adaptive limiter.
#include <asio/awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <system_error>

#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/net/client.hpp"
#include "baton_percipio/net/http.hpp"
#include "baton_percipio/net/http_date.hpp"
#include "baton_percipio/net/limiter.hpp"

namespace bp::net {

// What happened on one attempt.
struct attempt_info {
  int attempt = 1;                   // 1-based number of the attempt that just finished
  std::error_code ec;                // transport error, or the validator's error when bad_body
  int status = 0;                    // HTTP status; 0 when no response arrived
  std::span<const header> headers;   // response headers (may be empty)
  bool bad_body = false;             // caller flagged a 2xx whose body is unusable (incomplete JSON)
  int rate_limited = 0;              // 429 answers among the attempts so far (this one included)
  // false for POST: a transport error after the request may have reached the server is not
  // retried (only connect failures are).
  bool idempotent = true;
  sys_time now = std::chrono::system_clock::now();            // for HTTP-date Retry-After
  bp::steady_clock::time_point steady_now = bp::steady_clock::now();
  bp::deadline deadline = bp::no_deadline;
};

enum class retry_action {
  success,       // 2xx with a good body: use it
  retry,         // wait `delay`, then try again
  fail,          // not retryable (4xx other than 408/429, TLS, refused URL, cancelled...)
  auth_failure,  // 401/403: the token or organization is wrong; never retried
  give_up,       // retryable, but out of attempts or the wait would pass the deadline
};

struct decision {
  retry_action action = retry_action::fail;
  std::chrono::milliseconds delay{0};
  bool rate_limited = false;  // 429 (or 503 with rate-limit headers): slow the shared limiter
  std::string reason;         // short text for debug logs, never a header value
};

struct retry_policy {
  // Attempts per request, not counting 429 answers: rate limiting is the server asking us to slow
  // down, so 429s are retried until the deadline (or max_rate_limited_attempts, when set).
  int max_attempts = 5;
  int max_rate_limited_attempts = 0;  // 429 answers per request before giving up; 0 = no cap
  std::chrono::milliseconds base_delay{1000};        // 5xx / transport backoff base
  std::chrono::milliseconds max_delay{60000};        // backoff cap
  std::chrono::milliseconds rate_limit_base{5000};   // 429 backoff base when no header says more
  std::chrono::milliseconds max_retry_after{300000}; // cap on a server-requested wait
  std::uint64_t seed = 0;                            // jitter generator seed; 0 = random_device
  std::function<double()> random;                    // optional source of [0,1); overrides seed

  // Pure apart from drawing jitter. Not thread-safe (the jitter generator is shared by copies).
  decision decide(const attempt_info& info) const;
  // Exponential cap before jitter: min(max_delay, base * 2^(attempt-1)).
  std::chrono::milliseconds backoff_cap(int attempt, std::chrono::milliseconds base) const;

 private:
  double draw() const;
  mutable std::shared_ptr<std::mt19937_64> rng_;
};

// On a successful response: when the server says the quota is used up (X-RateLimit-Remaining or
// RateLimit-Remaining is 0) and when it refills (the matching -Reset), the wait until then, so the
// shared limiter can hold every request instead of collecting 429s. nullopt otherwise.
std::optional<std::chrono::milliseconds> quota_exhausted_wait(std::span<const header> headers, sys_time now);

// Counters for the sync summary. Atomic so several threads may share one.
struct retry_stats {
  std::atomic<std::uint64_t> attempts{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> rate_limited{0};    // 429 answers
  std::atomic<std::uint64_t> server_errors{0};   // 5xx answers
  std::atomic<std::uint64_t> transport_errors{0};
  std::atomic<std::uint64_t> bad_bodies{0};      // 2xx rejected by the validator
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> bytes_received{0};  // decoded body bytes of all attempts
};

// Checks a 2xx response; a non-empty result marks it retryable ("200 but bad body").
using response_validator = std::function<std::error_code(const response&)>;

// Runs req until the policy says stop. Returns the last {error_code, response}: an HTTP error
// status (401, 404, exhausted 503...) comes back with an empty error_code and that status; a
// validator failure on the last attempt returns the validator's error. Each retry is logged at
// debug with its reason. limiter may be null. Waits are bounded by d.
asio::awaitable<std::pair<std::error_code, response>> async_request_with_retry(
    client& c, request req, bp::deadline d, const retry_policy& policy, adaptive_limiter* limiter,
    retry_stats& stats, response_validator validate = {});

}  // namespace bp::net
