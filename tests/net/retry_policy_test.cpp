#include "baton_percipio/net/retry.hpp"

#include <doctest/doctest.h>

#include "baton_percipio/net/error.hpp"

namespace bp::net {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// Fixed virtual clocks: wall time for HTTP dates and steady time for deadlines.
const sys_time wall_now = sys_time(std::chrono::seconds(784111777));  // Sun, 06 Nov 1994 08:49:37 GMT
const bp::steady_clock::time_point steady_now{std::chrono::hours(1000)};

attempt_info info(int attempt, int status, std::vector<header>* hs = nullptr, std::error_code ec = {}) {
  attempt_info a;
  a.attempt = attempt;
  a.status = status;
  a.ec = ec;
  if (hs) a.headers = *hs;
  a.now = wall_now;
  a.steady_now = steady_now;
  return a;
}

}  // namespace

TEST_CASE("HTTP dates in all three formats") {
  auto expected = wall_now;
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == expected);
  CHECK(parse_http_date("Thu, 01 Jan 2026 00:00:00 GMT").has_value());
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST"));
  CHECK_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("yesterday"));
  CHECK_FALSE(parse_http_date(""));

  CHECK(parse_retry_after("120", wall_now) == milliseconds(120000));
  CHECK(parse_retry_after(" 0 ", wall_now) == milliseconds(0));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", wall_now) == milliseconds(30000));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", wall_now) == milliseconds(0));  // past
  CHECK_FALSE(parse_retry_after("-5", wall_now));
  CHECK_FALSE(parse_retry_after("soon", wall_now));

  CHECK(parse_rate_limit_reset("7", wall_now) == milliseconds(7000));
  CHECK(parse_rate_limit_reset("1.5", wall_now) == milliseconds(1500));
  const sys_time later = sys_time(std::chrono::seconds(1700000000));
  CHECK(parse_rate_limit_reset("1700000010", later) == milliseconds(10000));  // epoch seconds
  CHECK_FALSE(parse_rate_limit_reset("x", wall_now));
}

TEST_CASE("a used-up quota on a successful answer: the wait until its reset") {
  using hl = std::vector<header>;
  CHECK(quota_exhausted_wait(hl{{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", "3"}}, wall_now) ==
        milliseconds(3000));
  CHECK(quota_exhausted_wait(hl{{"ratelimit-remaining", " 0 "}, {"RateLimit-Reset", "2"}}, wall_now) ==
        milliseconds(2000));
  CHECK_FALSE(quota_exhausted_wait(hl{{"X-RateLimit-Remaining", "4"}, {"X-RateLimit-Reset", "3"}}, wall_now));
  CHECK_FALSE(quota_exhausted_wait(hl{{"X-RateLimit-Remaining", "0"}}, wall_now));  // no reset: no idea how long
  CHECK_FALSE(quota_exhausted_wait(hl{{"X-RateLimit-Remaining", "none"}, {"X-RateLimit-Reset", "3"}}, wall_now));
  CHECK_FALSE(quota_exhausted_wait(hl{}, wall_now));
}

TEST_CASE("retry decisions") {
  retry_policy p;
  p.max_attempts = 5;
  p.base_delay = 1000ms;
  p.max_delay = 60000ms;
  p.rate_limit_base = 5000ms;
  p.random = [] { return 0.5; };

  struct row {
    int status;
    std::error_code ec;
    retry_action action;
  };
  const std::vector<row> table = {
      {200, {}, retry_action::success},
      {204, {}, retry_action::success},
      {400, {}, retry_action::fail},
      {401, {}, retry_action::auth_failure},
      {403, {}, retry_action::auth_failure},
      {404, {}, retry_action::fail},
      {422, {}, retry_action::fail},
      {408, {}, retry_action::retry},
      {429, {}, retry_action::retry},
      {500, {}, retry_action::retry},
      {502, {}, retry_action::retry},
      {503, {}, retry_action::retry},
      {504, {}, retry_action::retry},
      {0, errc::timeout, retry_action::retry},
      {0, errc::connection_closed, retry_action::retry},
      {0, errc::truncated_body, retry_action::retry},
      {0, errc::connect_failed, retry_action::retry},
      {0, std::make_error_code(std::errc::connection_reset), retry_action::retry},
      {0, errc::tls_failed, retry_action::fail},
      {0, errc::insecure_url, retry_action::fail},
      {0, errc::cancelled, retry_action::fail},
      {0, errc::body_too_large, retry_action::fail},
  };
  for (const auto& r : table) {
    auto d = p.decide(info(1, r.status, nullptr, r.ec));
    CHECK_MESSAGE(d.action == r.action, "status " << r.status << " ec " << r.ec.message() << ": " << d.reason);
    CHECK_FALSE(d.reason.empty());
  }

  SUBCASE("non-idempotent requests retry only connect failures") {
    auto a = info(1, 0, nullptr, make_error_code(errc::truncated_body));
    a.idempotent = false;
    CHECK(p.decide(a).action == retry_action::fail);
    a.ec = errc::connect_failed;
    CHECK(p.decide(a).action == retry_action::retry);
    auto b = info(1, 503);
    b.idempotent = false;
    CHECK(p.decide(b).action == retry_action::retry);  // the server said it did not process it
  }
  SUBCASE("auth failures are never retried, even on the first attempt") {
    auto d = p.decide(info(1, 401));
    CHECK(d.reason.find("token") != std::string::npos);
  }
  SUBCASE("bad 200 body is retried") {
    auto a = info(1, 200, nullptr, make_error_code(errc::protocol_error));
    a.bad_body = true;
    auto d = p.decide(a);
    CHECK(d.action == retry_action::retry);
    CHECK(d.delay == 500ms);  // full jitter: 0.5 * 1 s
  }
  SUBCASE("exponential backoff with full jitter, capped") {
    CHECK(p.decide(info(1, 503)).delay == 500ms);
    CHECK(p.decide(info(2, 503)).delay == 1000ms);
    CHECK(p.decide(info(3, 503)).delay == 2000ms);
    p.max_attempts = 20;
    CHECK(p.decide(info(10, 503)).delay == 30000ms);  // cap 60 s * 0.5
  }
  SUBCASE("jitter stays within bounds with a fixed seed and is reproducible") {
    retry_policy a;
    a.seed = 42;
    a.max_attempts = 100;
    std::vector<milliseconds> first;
    for (int attempt = 1; attempt <= 8; ++attempt) {
      for (int i = 0; i < 50; ++i) {
        auto d = a.decide(info(attempt, 500));
        CHECK(d.delay >= 0ms);
        CHECK(d.delay <= a.backoff_cap(attempt, a.base_delay));
        auto r = a.decide(info(attempt, 429));
        CHECK(r.delay >= a.backoff_cap(attempt, a.rate_limit_base) / 2);
        CHECK(r.delay <= a.backoff_cap(attempt, a.rate_limit_base));
        if (attempt == 1 && i < 5) first.push_back(d.delay);
      }
    }
    retry_policy c;
    c.seed = 42;
    c.max_attempts = 100;
    for (int i = 0; i < 5; ++i) {
      CHECK(c.decide(info(1, 500)).delay == first[static_cast<std::size_t>(i)]);
      (void)c.decide(info(1, 429));
    }
  }
  SUBCASE("429 without headers backs off from the rate-limit base") {
    auto d = p.decide(info(1, 429));
    CHECK(d.action == retry_action::retry);
    CHECK(d.rate_limited);
    CHECK(d.delay == 3750ms);  // 2.5 s + 0.5 * 2.5 s
  }
  SUBCASE("Retry-After seconds") {
    std::vector<header> hs{{"retry-after", "7"}};
    auto d = p.decide(info(1, 429, &hs));
    CHECK(d.delay == 7000ms);
    CHECK(d.reason.find("Retry-After") != std::string::npos);
  }
  SUBCASE("Retry-After HTTP date") {
    std::vector<header> hs{{"Retry-After", "Sun, 06 Nov 1994 08:49:49 GMT"}};
    CHECK(p.decide(info(1, 429, &hs)).delay == 12000ms);
    std::vector<header> hs2{{"Retry-After", "Sunday, 06-Nov-94 08:49:40 GMT"}};
    CHECK(p.decide(info(1, 503, &hs2)).delay == 3000ms);
  }
  SUBCASE("X-RateLimit-Reset and RateLimit-Reset") {
    std::vector<header> hs{{"X-RateLimit-Limit", "100"}, {"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", "9"}};
    CHECK(p.decide(info(1, 429, &hs)).delay == 9000ms);
    std::vector<header> hs2{{"RateLimit-Reset", "4"}};
    CHECK(p.decide(info(1, 429, &hs2)).delay == 4000ms);
    std::vector<header> both{{"Retry-After", "2"}, {"X-RateLimit-Reset", "9"}};
    CHECK(p.decide(info(1, 429, &both)).delay == 2000ms);  // Retry-After wins
    std::vector<header> on500{{"Retry-After", "30"}};
    CHECK(p.decide(info(1, 500, &on500)).delay == 500ms);  // only 429/503 honour it
  }
  SUBCASE("server waits are capped") {
    std::vector<header> hs{{"Retry-After", "100000"}};
    CHECK(p.decide(info(1, 429, &hs)).delay == p.max_retry_after);
  }
  SUBCASE("attempts cap") {
    auto d = p.decide(info(5, 503));
    CHECK(d.action == retry_action::give_up);
    CHECK(d.reason.find("5 attempts") != std::string::npos);
  }
  SUBCASE("deadline cutoff") {
    auto a = info(1, 503);
    a.deadline = steady_now + 400ms;
    CHECK(p.decide(a).action == retry_action::give_up);  // 500 ms wait
    a.deadline = steady_now + 600ms;
    CHECK(p.decide(a).action == retry_action::retry);
    std::vector<header> hs{{"Retry-After", "10"}};
    auto b = info(1, 429, &hs);
    b.deadline = steady_now + 9s;
    auto d = p.decide(b);
    CHECK(d.action == retry_action::give_up);
    CHECK(d.reason.find("deadline") != std::string::npos);
  }
}

}  // namespace bp::net
