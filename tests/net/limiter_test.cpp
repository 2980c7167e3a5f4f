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
}

TEST_CASE("AIMD window") {
  asio::io_context io;
  adaptive_limiter lim(io.get_executor(), {8, 0, 1, {}});
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
  adaptive_limiter lim(io.get_executor(), {2, 0, 1, {}});
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
  adaptive_limiter lim(io.get_executor(), {1, 0, 1, {}});
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
  limiter_options o;
  o.max_concurrency = 100;
  o.requests_per_second = 4;
  o.burst = 3;
  o.clock = [&] { return t; };
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

}  // namespace bp::net
