#include "baton_percipio/net/limiter.hpp"

#include <doctest/doctest.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <vector>

#include "baton_percipio/net/error.hpp"

namespace bp::net {
namespace {
using namespace std::chrono_literals;
// A limiter with only a concurrency window (no token bucket).
// A token bucket on the virtual clock `t` (tests move t by hand).
limiter_options on_clock(bp::steady_clock::time_point& t, double rps, double burst, std::size_t concurrency = 8) {
  limiter_options o;
  o.max_concurrency = concurrency;
  o.requests_per_second = rps;
  o.burst = burst;
  o.clock = [&t] { return t; };
  return o;
}
[[maybe_unused]] limiter_options window_only(std::size_t n) {
  limiter_options o;
  o.max_concurrency = n;
  o.burst = 1;
  return o;
}
}

TEST_CASE("AIMD window") {
  asio::io_context io;
  adaptive_limiter lim(io.get_executor(), window_only(8));
  CHECK(lim.limit() == 8);
  lim.on_rate_limited();
  CHECK(lim.limit() == 4);
  lim.on_rate_limited();
  lim.on_rate_limited();
  CHECK(lim.limit() == 1);
  lim.on_rate_limited();
  CHECK(lim.limit() == 1);  // never below 1
  lim.on_success();
  CHECK(lim.limit() == 2);  // +1 per window of successes: window 1 -> 1 success
  lim.on_success();
  CHECK(lim.limit() == 2);
  lim.on_success();
  CHECK(lim.limit() == 3);
  for (int i = 0; i < 100; ++i) lim.on_success();
  CHECK(lim.limit() == 8);  // capped at the maximum
  CHECK(lim.window() == doctest::Approx(8.0));
}

TEST_CASE("permits bound concurrency and waiters are woken in order") {
  asio::io_context io;
  adaptive_limiter lim(io.get_executor(), window_only(2));
  std::vector<adaptive_limiter::permit> held;
  std::vector<int> order;
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(io, [&, i]() -> asio::awaitable<void> {
      auto p = co_await lim.acquire();
      order.push_back(i);
      held.push_back(std::move(p));
      ++done;
    }, asio::detached);
  }
  io.poll();
  CHECK(done == 2);
  CHECK(lim.in_use() == 2);
  CHECK(lim.waiting() == 3);
  CHECK_FALSE(lim.try_acquire());  // full, and others are queued

  held.erase(held.begin());  // release one permit
  io.restart();
  io.poll();
  CHECK(done == 3);
  CHECK(lim.in_use() == 2);

  // Halving the window: releases do not admit anyone until in_use drops below the new limit.
  lim.on_rate_limited();
  CHECK(lim.limit() == 1);
  held.clear();
  io.restart();
  io.poll();
  CHECK(done == 4);
  CHECK(lim.in_use() == 1);
  CHECK(order == std::vector<int>{0, 1, 2, 3});

  // Growing the window wakes the last waiter.
  lim.on_success();
  io.restart();
  io.poll();
  CHECK(done == 5);
  CHECK(lim.in_use() == 2);
  held.clear();
  CHECK(lim.in_use() == 0);
}

TEST_CASE("acquire with a deadline and cancellation") {
  asio::io_context io;
  adaptive_limiter lim(io.get_executor(), window_only(1));
  auto first = lim.try_acquire();
  REQUIRE(first);
  std::error_code got;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto [ec, p] = co_await lim.async_acquire(bp::steady_clock::now());  // already past
    got = ec;
  }, asio::detached);
  io.run();
  CHECK(got == errc::timeout);
  CHECK(lim.waiting() == 0);

  // Destroying the limiter's waiters via cancellation: a parallel cancel through the slot.
  asio::cancellation_signal sig;
  std::error_code got2;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    auto [ec, p] = co_await lim.async_acquire(bp::no_deadline);
    got2 = ec;
  }, asio::bind_cancellation_slot(sig.slot(), asio::detached));
  io.restart();
  io.poll();
  CHECK(lim.waiting() == 1);
  sig.emit(asio::cancellation_type::terminal);
  io.run();
  CHECK(got2 == errc::cancelled);
  CHECK(lim.waiting() == 0);
  first.release();
  CHECK(lim.in_use() == 0);
}

TEST_CASE("token bucket on a virtual clock") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  auto o = on_clock(t, 4, 3, 100);
  adaptive_limiter lim(io.get_executor(), o);
  std::vector<adaptive_limiter::permit> ps;
  for (int i = 0; i < 3; ++i) {
    auto p = lim.try_acquire();
    CHECK(p);
    ps.push_back(std::move(p));
  }
  CHECK_FALSE(lim.try_acquire());  // burst used up
  t += 100ms;                      // 0.4 token
  CHECK_FALSE(lim.try_acquire());
  t += 150ms;  // 1.0 token
  CHECK(lim.try_acquire());
  CHECK_FALSE(lim.try_acquire());
  t += 10s;
  CHECK(lim.tokens() == doctest::Approx(3.0));  // refill stops at the burst size
}

TEST_CASE("the bucket starts with one second's worth of tokens; the burst builds up while idle") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  SUBCASE("default") {
    adaptive_limiter lim(io.get_executor(), on_clock(t, 4, 20, 100));
    CHECK(lim.tokens() == doctest::Approx(4.0));
    std::vector<adaptive_limiter::permit> ps;
    for (int i = 0; i < 4; ++i) ps.push_back(lim.try_acquire());
    for (const auto& p : ps) CHECK(p);
    CHECK_FALSE(lim.try_acquire());  // no opening burst of 20 into a server with a smaller one
    t += 5s;
    CHECK(lim.tokens() == doctest::Approx(20.0));  // idle: the full burst is there
  }
  SUBCASE("a slow rate still starts with one token; a small burst caps it") {
    CHECK(adaptive_limiter(io.get_executor(), on_clock(t, 0.5, 20)).tokens() == doctest::Approx(1.0));
    CHECK(adaptive_limiter(io.get_executor(), on_clock(t, 10, 3)).tokens() == doctest::Approx(3.0));
  }
  SUBCASE("explicit") {
    auto o = on_clock(t, 4, 20);
    o.initial_tokens = 0;
    CHECK(adaptive_limiter(io.get_executor(), o).tokens() == doctest::Approx(0.0));
    o.initial_tokens = 50;
    CHECK(adaptive_limiter(io.get_executor(), o).tokens() == doctest::Approx(20.0));
  }
}

TEST_CASE("a 429 empties the bucket, holds every request for the pause and halves the rate once per burst") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  auto o = on_clock(t, 4, 20, 8);
  o.initial_tokens = 20;  // a full bucket, as after an idle spell
  adaptive_limiter lim(io.get_executor(), o);
  // Eight requests go out together (same epoch); all are answered 429 with Retry-After: 2.
  const auto sent = lim.epoch();
  for (int i = 0; i < 8; ++i) CHECK(lim.try_acquire());
  for (int i = 0; i < 8; ++i) lim.on_rate_limited(2s, sent);
  CHECK(lim.epoch() == sent + 1);             // one decrease for the whole burst
  CHECK(lim.limit() == 4);
  CHECK(lim.rate() == doctest::Approx(2.0));
  CHECK(lim.held_until() == t + 2s);
  CHECK(lim.tokens() == doctest::Approx(0.0));

  t += 1999ms;
  CHECK_FALSE(lim.try_acquire());  // held, although the bucket would have refilled by now
  t += 1ms;
  CHECK_FALSE(lim.try_acquire());  // the pause is over, but the bucket starts empty
  t += 500ms;                      // 0.5 s at 2/s: one token
  CHECK(lim.try_acquire());
  CHECK_FALSE(lim.try_acquire());
  // The burst shrank with the rate: 20 * 2/4 = 10 tokens at most.
  t += 60s;
  CHECK(lim.tokens() == doctest::Approx(10.0));

  // A later request answered 429 decreases again.
  lim.on_rate_limited(0s, lim.epoch());
  CHECK(lim.rate() == doctest::Approx(1.0));
  CHECK(lim.limit() == 2);
  // A request sent before that decrease does not.
  lim.on_rate_limited(0s, sent);
  CHECK(lim.rate() == doctest::Approx(1.0));
  CHECK(lim.limit() == 2);
}

TEST_CASE("successes win the rate back slowly, up to the configured rate") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  auto o = on_clock(t, 4, 20);
  o.rate_increase = 1.0 / 32;
  adaptive_limiter lim(io.get_executor(), o);
  lim.on_rate_limited();
  CHECK(lim.rate() == doctest::Approx(2.0));
  for (int i = 0; i < 8; ++i) lim.on_success();
  CHECK(lim.rate() == doctest::Approx(3.0));  // 8 x 4/32
  for (int i = 0; i < 100; ++i) lim.on_success();
  CHECK(lim.rate() == doctest::Approx(4.0));
  // The rate never halves below the minimum.
  for (int i = 0; i < 40; ++i) lim.on_rate_limited();
  CHECK(lim.rate() == doctest::Approx(o.min_requests_per_second));
}

TEST_CASE("hold_for: a used-up quota holds every request, without a decrease") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  auto o = on_clock(t, 4, 20);
  adaptive_limiter lim(io.get_executor(), o);
  lim.hold_for(2s);
  CHECK(lim.rate() == doctest::Approx(4.0));
  CHECK(lim.limit() == 8);
  CHECK(lim.epoch() == 0);
  CHECK_FALSE(lim.try_acquire());
  t += 2s;
  CHECK_FALSE(lim.try_acquire());  // the bucket starts empty after the reset: no burst into it
  t += 250ms;
  CHECK(lim.try_acquire());
  CHECK_FALSE(lim.try_acquire());
}

TEST_CASE("without a bucket a 429 still holds every request for the pause") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  auto o = on_clock(t, 0, 20, 4);
  adaptive_limiter lim(io.get_executor(), o);
  lim.on_rate_limited(3s);
  CHECK(lim.rate() == 0);
  CHECK_FALSE(lim.try_acquire());
  t += 3s;
  CHECK(lim.try_acquire());
}

}  // namespace bp::net
