#include "baton_percipio/net/limiter.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <cmath>
#include <limits>

#include "baton_percipio/net/error.hpp"

namespace bp::net {

struct adaptive_limiter::waiter {
  explicit waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool woken = false;
};

void adaptive_limiter::permit::release() {
  if (owner_ != nullptr) {
    auto* o = std::exchange(owner_, nullptr);
    // Kept in order: a clock that went back counts the request later, never earlier.
    auto t = o->now();
    if (!o->released_.empty()) t = std::max(t, o->released_.back());
    o->release_one(t);
  }
}

void adaptive_limiter::permit::release(bp::steady_clock::time_point answered_at) {
  if (owner_ != nullptr) {
    auto* o = std::exchange(owner_, nullptr);
    o->release_one(std::min(answered_at, o->now()));
  }
}

adaptive_limiter::adaptive_limiter(asio::any_io_executor ex, limiter_options opts)
    : ex_(std::move(ex)), opts_(std::move(opts)) {
  if (opts_.max_concurrency == 0) opts_.max_concurrency = 1;
  window_ = static_cast<double>(opts_.max_concurrency);
  if (opts_.budget_window <= bp::steady_clock::duration::zero()) opts_.budget_requests = 0;
  budget_ = static_cast<double>(opts_.budget_requests);
  if (opts_.history && has_budget()) {
    std::lock_guard lock(opts_.history->mu);
    released_ = opts_.history->released;
    forget_expired(now());
  }
}

adaptive_limiter::~adaptive_limiter() {
  for (auto* w : waiters_) w->timer.cancel();
  if (opts_.history && has_budget()) {
    // Permits still out count as released now: their requests have ended with the sync.
    const auto t = now();
    for (std::size_t i = 0; i < in_use_; ++i) released_.push_back(t);
    forget_expired(t);
    std::lock_guard lock(opts_.history->mu);
    opts_.history->released = std::move(released_);
  }
}

bp::steady_clock::time_point adaptive_limiter::now() const {
  return opts_.clock ? opts_.clock() : bp::steady_clock::now();
}

std::size_t adaptive_limiter::limit() const {
  auto l = static_cast<std::size_t>(std::floor(window_));
  return l == 0 ? 1 : l;
}

std::size_t adaptive_limiter::budget() const {
  if (!has_budget()) return 0;
  auto b = static_cast<std::size_t>(std::floor(budget_));
  return b == 0 ? 1 : b;
}

std::size_t adaptive_limiter::cap() const { return has_budget() ? std::min(limit(), budget()) : limit(); }

void adaptive_limiter::forget_expired(bp::steady_clock::time_point t) {
  while (!released_.empty() && released_.front() + opts_.budget_window <= t) released_.pop_front();
}

std::size_t adaptive_limiter::budget_used() {
  forget_expired(now());
  return in_use_ + released_.size();
}

bp::steady_clock::duration adaptive_limiter::take_token() {
  const auto t = now();
  if (t < hold_until_) return hold_until_ - t;
  if (has_budget()) {
    forget_expired(t);
    const std::size_t used = in_use_ + released_.size();
    if (used >= budget()) {
      // Room once enough of the released requests have aged out. Callers hold a free slot, so
      // in_use_ < budget() and the one to wait for is among the released.
      const std::size_t k = used - budget();
      if (k >= released_.size()) return opts_.budget_window;  // not reached; a bounded wait regardless
      return released_[k] + opts_.budget_window - t;
    }
  }
  return {};
}

void adaptive_limiter::wake() {
  // Wake as many queued waiters as there are free slots; each re-checks when it runs.
  std::size_t free = in_use_ < cap() ? cap() - in_use_ : 0;
  while (free > 0 && !waiters_.empty()) {
    waiter* w = waiters_.front();
    waiters_.pop_front();
    w->woken = true;
    w->timer.cancel();
    --free;
  }
}

void adaptive_limiter::release_one(bp::steady_clock::time_point counted_from) {
  if (in_use_ > 0) --in_use_;
  if (has_budget()) {
    // An answer that began earlier than later releases goes before them: take_token reads the
    // k-th oldest and forget_expired drops from the front.
    released_.insert(std::upper_bound(released_.begin(), released_.end(), counted_from), counted_from);
    forget_expired(now());
  }
  wake();
}

void adaptive_limiter::on_rate_limited(bp::steady_clock::duration pause, std::uint64_t sent_epoch) {
  if (sent_epoch >= epoch_) {
    ++epoch_;
    window_ = std::max(1.0, std::floor(window_ / 2.0));
    budget_ = std::max(1.0, std::floor(budget_ / 2.0));
  }
  hold_for(pause);  // what we thought we had, the server did not
}

void adaptive_limiter::hold_for(bp::steady_clock::duration pause) {
  hold_until_ = std::max(hold_until_, now() + std::max(pause, bp::steady_clock::duration::zero()));
}

void adaptive_limiter::on_success() {
  auto before = cap();
  window_ = std::min(static_cast<double>(opts_.max_concurrency), window_ + 1.0 / std::floor(window_));
  if (has_budget() && budget_ < static_cast<double>(opts_.budget_requests)) {
    const double max = static_cast<double>(opts_.budget_requests);
    budget_ = std::min(max, budget_ + std::max(1.0, max * opts_.rate_increase) / std::floor(budget_));
  }
  if (cap() > before) wake();
}

adaptive_limiter::permit adaptive_limiter::try_acquire() {
  if (!waiters_.empty() || token_sleepers_ > 0 || !slot_free()) return permit{};
  if (take_token().count() != 0) return permit{};
  ++in_use_;
  return permit{this};
}

asio::awaitable<std::pair<std::error_code, adaptive_limiter::permit>> adaptive_limiter::async_acquire(bp::deadline d) {
  constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
  bool my_turn = false;  // woken from the queue: may go ahead of newcomers
  while (true) {
    if ((my_turn || (waiters_.empty() && token_sleepers_ == 0)) && slot_free()) {
      auto wait = take_token();
      if (wait.count() == 0) {
        ++in_use_;
        // Queued requests behind us may now wait for the budget's next opening
        // themselves, rather than for the next release.
        if (token_sleepers_ == 0 && !waiters_.empty()) wake();
        co_return std::pair{std::error_code{}, permit{this}};
      }
      // A slot but no room in the budget (or a hold): sleep until there is, keeping our turn.
      auto until = std::min(d, bp::steady_clock::now() + wait);
      asio::steady_timer t(ex_);
      t.expires_at(until);
      ++token_sleepers_;
      std::error_code ec;
      try {
        std::tie(ec) = co_await t.async_wait(tuple_awaitable);
      } catch (const std::system_error& e) {
        ec = e.code();
      }
      --token_sleepers_;
      if (ec == asio::error::operation_aborted) {
        wake();
        co_return std::pair{make_error_code(errc::cancelled), permit{}};
      }
      if (bp::steady_clock::now() >= d) {
        wake();
        co_return std::pair{make_error_code(errc::timeout), permit{}};
      }
      my_turn = true;
      continue;
    }
    waiter w(ex_);
    w.timer.expires_at(d);
    waiters_.push_back(&w);
    std::error_code ec;
    try {
      std::tie(ec) = co_await w.timer.async_wait(tuple_awaitable);
    } catch (const std::system_error& e) {
      ec = e.code();
    }
    if (!w.woken) {
      waiters_.remove(&w);
      co_return std::pair{make_error_code(ec == asio::error::operation_aborted ? errc::cancelled : errc::timeout),
                          permit{}};
    }
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      wake();
      co_return std::pair{make_error_code(errc::cancelled), permit{}};
    }
    my_turn = true;
  }
}

asio::awaitable<adaptive_limiter::permit> adaptive_limiter::acquire() {
  auto [ec, p] = co_await async_acquire(bp::no_deadline);
  if (ec) throw std::system_error(asio::error::operation_aborted, "adaptive_limiter::acquire");
  co_return std::move(p);
}

}  // namespace bp::net
