// The limiter's request budget (at most N requests in any DURATION) on a virtual clock: the bound
// holds for any network delay over random request patterns (requests counted until their answer
// ends, or only until its first byte), nothing waits below N, a 429 halves the budget once and
// successes win it back.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <algorithm>
#include <random>
#include <vector>

#include "baton_percipio/net/limiter.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace bp::net {
namespace {
using namespace std::chrono_literals;
using time_point = bp::steady_clock::time_point;

limiter_options budget_on_clock(time_point& t, std::size_t n, bp::steady_clock::duration window,
                                std::size_t concurrency = 8) {
  limiter_options o;
  o.max_concurrency = concurrency;
  o.budget_requests = n;
  o.budget_window = window;
  o.clock = [&t] { return t; };
  return o;
}

struct span {
  time_point sent, ended;
};

// The most requests a server could see within any `window`, whatever the network delays: request i
// may arrive anywhere in [sent, ended]; count those that can fall into one [x, x + window). The
// maximum is reached at x = some request's end.
std::size_t worst_arrivals(const std::vector<span>& spans, bp::steady_clock::duration window) {
  std::size_t worst = 0;
  for (const auto& s : spans) {
    const auto x = s.ended;
    auto n = static_cast<std::size_t>(std::count_if(spans.begin(), spans.end(), [&](const span& o) {
      return o.sent < x + window && o.ended >= x;
    }));
    worst = std::max(worst, n);
  }
  return worst;
}

struct in_flight {
  adaptive_limiter::permit p;
  time_point sent, answered, ends;
};

// Drives the limiter with try_acquire on the virtual clock: requests want to go out at random
// moments (often in bursts) and take random times to answer; a refused one tries again a little
// later. With at_first_byte, each answer begins somewhere before it ends and the permit is released
// with that moment (the server had the request by then). Returns every request's [sent, latest
// arrival at the server].
std::vector<span> simulate(std::mt19937& rng, std::size_t n, bp::steady_clock::duration window, std::size_t concurrency,
                           std::size_t total, bool at_first_byte = false) {
  asio::io_context io;
  auto t = time_point(1000s);
  adaptive_limiter lim(io.get_executor(), budget_on_clock(t, n, window, concurrency));
  const auto unit = window / static_cast<long>(n);  // the mean spacing the budget allows
  std::uniform_int_distribution<long> gap(0, 3 * unit.count());
  std::uniform_int_distribution<long> latency(0, 4 * unit.count() + window.count() / 10);
  std::bernoulli_distribution burst(0.5);
  std::vector<span> done;
  std::vector<in_flight> flying;
  time_point next_attempt = t;
  std::size_t sent = 0;
  while (done.size() < total) {
    auto first_end = std::min_element(flying.begin(), flying.end(),
                                      [](const in_flight& a, const in_flight& b) { return a.ends < b.ends; });
    if (first_end != flying.end() && (sent == total || first_end->ends <= next_attempt)) {
      t = first_end->ends;
      if (at_first_byte) {
        first_end->p.release(first_end->answered);
        done.push_back({first_end->sent, first_end->answered});
      } else {
        first_end->p.release();
        done.push_back({first_end->sent, t});
      }
      flying.erase(first_end);
      continue;
    }
    t = next_attempt;
    if (auto p = lim.try_acquire()) {
      CHECK(lim.budget_used() <= n);
      const auto ends = t + bp::steady_clock::duration(latency(rng));
      const auto answered = t + bp::steady_clock::duration(
                                    std::uniform_int_distribution<long>(0, (ends - t).count())(rng));
      flying.push_back({std::move(p), t, answered, ends});
      ++sent;
      next_attempt = t + (burst(rng) ? bp::steady_clock::duration::zero() : bp::steady_clock::duration(gap(rng)));
    } else {
      next_attempt = t + std::max<bp::steady_clock::duration>(1ns, unit / 8);
    }
  }
  return done;
}

}  // namespace

namespace {

// Random request patterns over several budget shapes: the server never sees more than N arrivals in
// any window, and the budget is used in full at least once (the limiter is not overly strict).
void check_bound_over_shapes(std::uint32_t seed, bool first_byte) {
  std::mt19937 rng(seed);
  struct shape {
    std::size_t n;
    bp::steady_clock::duration window;
    std::size_t concurrency;
  };
  for (const shape s : {shape{100, 20s, 8}, shape{5, 500ms, 8}, shape{3, 1s, 1}, shape{10, 2s, 64}, shape{1, 1s, 4}}) {
    for (int round = 0; round < 5; ++round) {
      CAPTURE(s.n);
      CAPTURE(round);
      auto spans = simulate(rng, s.n, s.window, s.concurrency, 6 * s.n + 7, first_byte);
      CHECK(worst_arrivals(spans, s.window) <= s.n);
      CHECK(worst_arrivals(spans, s.window) >= std::min<std::size_t>(s.n, s.concurrency));
    }
  }
}

}  // namespace

TEST_CASE("budget: at most N requests in any window, whatever the delays, over random patterns") {
  check_bound_over_shapes(20261202, false);
}

TEST_CASE("budget: the bound holds for requests counted from their answer's first byte") {
  check_bound_over_shapes(20261203, true);
}

TEST_CASE("budget: an answered request counts from its first byte, in order, never from the future") {
  asio::io_context io;
  auto t = time_point(100s);
  adaptive_limiter lim(io.get_executor(), budget_on_clock(t, 3, 1s, 8));
  auto a = lim.try_acquire();
  auto b = lim.try_acquire();
  auto c = lim.try_acquire();
  REQUIRE((a && b && c));
  CHECK_FALSE(lim.try_acquire());
  t += 5s;                          // a long body: counted while in flight
  CHECK_FALSE(lim.try_acquire());
  a.release(time_point(100s) + 100ms);  // its answer began at 100.1 s: out of the window already
  CHECK(lim.budget_used() == 2);
  auto d = lim.try_acquire();
  REQUIRE(d);
  CHECK_FALSE(lim.try_acquire());
  b.release();                      // no answer: counts until 106 s
  c.release(time_point(104s) + 500ms);  // released after b, answered before it: counts until 105.5 s
  CHECK(lim.budget_used() == 3);
  t = time_point(105s) + 499ms;
  CHECK_FALSE(lim.try_acquire());
  t += 1ms;
  CHECK(lim.budget_used() == 2);    // c left first, though released last
  auto e = lim.try_acquire();
  REQUIRE(e);
  CHECK_FALSE(lim.try_acquire());
  d.release(t + 10s);               // a first byte after now (105.5 s) is counted from now
  t += 499ms;
  CHECK_FALSE(lim.try_acquire());
  t += 1ms;                         // 106 s: b has left
  CHECK(lim.budget_used() == 2);
  t += 500ms;                       // 106.5 s: d has left too
  CHECK(lim.budget_used() == 1);
}

TEST_CASE("budget: fewer than N requests never wait; instant requests get exactly N per window") {
  asio::io_context io;
  auto t = time_point(100s);
  adaptive_limiter lim(io.get_executor(), budget_on_clock(t, 5, 1s, 64));
  CHECK(lim.budget() == 5);
  for (int i = 0; i < 5; ++i) {
    auto p = lim.try_acquire();
    REQUIRE(p);  // no wait at all below the budget
    t += 10ms;   // answered 10 ms later
  }
  CHECK(lim.budget_used() == 5);
  CHECK_FALSE(lim.try_acquire());
  // The first request ended at 100.01 s: the next may go at 101.01 s, not before.
  t = time_point(100s) + 1s + 9ms;
  CHECK_FALSE(lim.try_acquire());
  t += 1ms;
  CHECK(lim.budget_used() == 4);
  CHECK(lim.try_acquire());
  CHECK_FALSE(lim.try_acquire());
  t += 10s;
  CHECK(lim.budget_used() == 0);
  // The same with answers marked at their first byte, released much later.
  std::vector<adaptive_limiter::permit> ps;
  for (int i = 0; i < 5; ++i) {
    ps.push_back(lim.try_acquire());
    REQUIRE(ps.back());
  }
  const auto answered = t + 10ms;
  t += 3s;
  for (auto& p : ps) p.release(answered);
  CHECK(lim.budget_used() == 0);
}

TEST_CASE("budget: a shared history carries one sync's requests into the next sync's window") {
  asio::io_context io;
  auto t = time_point(100s);
  auto opts = budget_on_clock(t, 3, 1s, 8);
  opts.history = std::make_shared<budget_history>();
  {
    adaptive_limiter first(io.get_executor(), opts);
    for (int i = 0; i < 3; ++i) REQUIRE(first.try_acquire());  // released at once, at 100 s
  }
  t += 500ms;
  {
    adaptive_limiter second(io.get_executor(), opts);  // the next sync, half a window later
    CHECK(second.budget_used() == 3);
    CHECK_FALSE(second.try_acquire());
    t = time_point(101s);
    auto p = second.try_acquire();
    REQUIRE(p);  // the first sync's requests have aged out
    t += 100ms;
  }  // destroyed with `p` already released at 101.1 s
  adaptive_limiter third(io.get_executor(), opts);
  CHECK(third.budget_used() == 1);
  t = time_point(102s) + 100ms;
  CHECK(third.budget_used() == 0);
  // Without a shared history every limiter starts with a full budget.
  auto alone = budget_on_clock(t, 3, 1s, 8);
  adaptive_limiter other(io.get_executor(), alone);
  CHECK(other.budget_used() == 0);
}

TEST_CASE("budget: in-flight requests count until their answer ends") {
  asio::io_context io;
  auto t = time_point(100s);
  adaptive_limiter lim(io.get_executor(), budget_on_clock(t, 3, 1s, 8));
  auto a = lim.try_acquire();
  auto b = lim.try_acquire();
  auto c = lim.try_acquire();
  REQUIRE((a && b && c));
  CHECK_FALSE(lim.try_acquire());
  t += 5s;                          // a slow answer: still in flight, still counted
  CHECK_FALSE(lim.try_acquire());
  a.release();                      // ended at 105 s: counts until 106 s
  CHECK_FALSE(lim.try_acquire());
  t += 1s;
  CHECK(lim.try_acquire());
}

TEST_CASE("budget: a 429 halves it once per burst and holds; successes win it back slowly") {
  asio::io_context io;
  auto t = time_point(100s);
  auto o = budget_on_clock(t, 10, 10s, 8);
  o.rate_increase = 1.0 / 32;
  adaptive_limiter lim(io.get_executor(), o);
  const auto sent = lim.epoch();
  std::vector<adaptive_limiter::permit> ps;
  for (int i = 0; i < 4; ++i) ps.push_back(lim.try_acquire());
  ps.clear();  // all four answered at 100 s, all 429 with Retry-After: 2
  for (int i = 0; i < 4; ++i) lim.on_rate_limited(2s, sent);
  CHECK(lim.budget() == 5);
  CHECK(lim.limit() == 4);
  CHECK(lim.held_until() == t + 2s);
  t += 1999ms;
  CHECK_FALSE(lim.try_acquire());  // held
  t += 1ms;
  CHECK(lim.budget_used() == 4);
  CHECK(lim.try_acquire());        // 5 of the halved budget of 5
  CHECK_FALSE(lim.try_acquire());
  // +max(1, 10/32) per budget's worth of successes: 5 successes for one more request.
  for (int i = 0; i < 4; ++i) lim.on_success();
  CHECK(lim.budget() == 5);
  lim.on_success();
  CHECK(lim.budget() == 6);
  CHECK(lim.try_acquire());
  for (int i = 0; i < 200; ++i) lim.on_success();
  CHECK(lim.budget() == 10);       // capped at the configured budget
  for (int i = 0; i < 10; ++i) lim.on_rate_limited();
  CHECK(lim.budget() == 1);        // never below one request
}

TEST_CASE("budget: a full budget makes async_acquire wait until the oldest answer ages out") {
  asio::io_context io;
  limiter_options o;
  o.budget_requests = 2;
  o.budget_window = 30ms;
  adaptive_limiter lim(io.get_executor(), o);
  std::vector<bp::steady_clock::time_point> got;
  auto run = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      auto [ec, p] = co_await lim.async_acquire(bp::steady_clock::now() + 5s);
      CHECK_FALSE(ec);
      got.push_back(bp::steady_clock::now());
    }  // each permit released at once
  };
  asio::co_spawn(io, run, asio::detached);
  io.run();
  REQUIRE(got.size() == 3);
  CHECK(got[2] - got[0] >= 30ms);  // the third waited for the first to leave the window
  CHECK(lim.budget_used() <= 2);
}

}  // namespace bp::net
