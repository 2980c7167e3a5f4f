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
// A concurrency window of n on the virtual clock `t` (tests move t by hand).
limiter_options on_clock(bp::steady_clock::time_point& t, std::size_t n) {
  limiter_options o;
  o.max_concurrency = n;
  o.clock = [&t] { return t; };
  return o;
}
// A limiter with only a concurrency window.
[[maybe_unused]] limiter_options window_only(std::size_t n) {
  limiter_options o;
  o.max_concurrency = n;
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

TEST_CASE("a 429 holds every request for the pause and halves the window once per burst") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  adaptive_limiter lim(io.get_executor(), on_clock(t, 8));
  // Eight requests go out together (same epoch); all are answered 429 with Retry-After: 2.
  const auto sent = lim.epoch();
  std::vector<adaptive_limiter::permit> ps;
  for (int i = 0; i < 8; ++i) ps.push_back(lim.try_acquire());
  for (const auto& p : ps) CHECK(p);
  for (int i = 0; i < 8; ++i) lim.on_rate_limited(2s, sent);
  ps.clear();
  CHECK(lim.epoch() == sent + 1);  // one decrease for the whole burst
  CHECK(lim.limit() == 4);
  CHECK(lim.held_until() == t + 2s);
  t += 1999ms;
  CHECK_FALSE(lim.try_acquire());  // held
  t += 1ms;
  CHECK(lim.try_acquire());
  // A later request answered 429 decreases again; one sent before that decrease does not.
  lim.on_rate_limited(0s, lim.epoch());
  CHECK(lim.limit() == 2);
  lim.on_rate_limited(0s, sent);
  CHECK(lim.limit() == 2);
}

TEST_CASE("hold_for: a used-up quota holds every request, without a decrease") {
  asio::io_context io;
  auto t = bp::steady_clock::time_point(100s);
  adaptive_limiter lim(io.get_executor(), on_clock(t, 8));
  lim.hold_for(2s);
  CHECK(lim.limit() == 8);
  CHECK(lim.epoch() == 0);
  CHECK_FALSE(lim.try_acquire());
  t += 2s;
  CHECK(lim.try_acquire());
}

}  // namespace bp::net
