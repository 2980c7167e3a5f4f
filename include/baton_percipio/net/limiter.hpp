#pragma once
// A shared concurrency limiter with AIMD window control, an optional request budget (at most N
// requests in any DURATION, kept as a log of recent requests) and an optional token bucket, so all
// requests of one service account stay under the server's limit and back off together on 429:
// a 429 halves the concurrency window, the budget's N and the bucket's rate, empties the bucket and
// holds every request for the server's Retry-After; successes win them back additively.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <deque>
#include <list>
#include <mutex>
#include <memory>
#include <system_error>
#include <utility>

#include "baton_percipio/core/deadline.hpp"

namespace bp::net {

// Release times of a request budget, handed from one limiter to the next of the same process: the
// consecutive syncs of a daemon or of service mode then share one window, so back-to-back syncs
// together stay within N requests per DURATION too. Limiters use it one after another (a sync's
// limiter reads it when made and writes it when destroyed); the mutex covers threads that differ.
struct budget_history {
  std::mutex mu;
  std::deque<bp::steady_clock::time_point> released;
};

struct limiter_options {
  std::size_t max_concurrency = 8;
  // Budget regained after a 429, as a fraction of budget_requests per budget's worth of successes:
  // slow, so probing above a server's limit costs few 429s.
  double rate_increase = 1.0 / 32;
  // Request budget: at most budget_requests permits in any budget_window (0 disables it). A request
  // counts from when its permit is taken until budget_window after its answer began (the first
  // response byte, given to permit::release) or, without an answer, after the permit is released.
  // Either moment comes after the server received the request, which it did after the permit was
  // taken. So take any budget_window (x - window, x] of server arrivals, and the last permit s of
  // the requests arriving in it: every one of them was taken by s, and every one still counted at
  // s, since its count ends a window after its arrival, past x >= s. The limiter admits no permit
  // while budget_requests count, so the server sees at most budget_requests arrivals in any window,
  // whatever the network delays; and the first budget_requests requests never wait.
  std::size_t budget_requests = 0;
  bp::steady_clock::duration budget_window{};
  // Shared with the process's earlier and later limiters (empty: this limiter's requests only).
  std::shared_ptr<budget_history> history;
  // Clock of the budget and the holds (tests inject a virtual one). Default: steady_clock::now.
  std::function<bp::steady_clock::time_point()> clock;
};

// Single-threaded: use from the executor it was created with.
class adaptive_limiter {
 public:
  class permit {
   public:
    permit() = default;
    permit(permit&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)) {}
    permit& operator=(permit&& o) noexcept {
      if (this != &o) {
        release();
        owner_ = std::exchange(o.owner_, nullptr);
      }
      return *this;
    }
    ~permit() { release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    // Frees the slot; the budget counts the request until budget_window from now.
    void release();
    // Frees the slot once the answer is in; the budget counts the request until budget_window after
    // answered_at (its first response byte arrived; clamped to now). The request's body and its
    // processing then do not hold the budget.
    void release(bp::steady_clock::time_point answered_at);

   private:
    friend class adaptive_limiter;
    explicit permit(adaptive_limiter* o) : owner_(o) {}
    adaptive_limiter* owner_ = nullptr;
  };

  adaptive_limiter(asio::any_io_executor ex, limiter_options opts);
  ~adaptive_limiter();
  adaptive_limiter(const adaptive_limiter&) = delete;
  adaptive_limiter& operator=(const adaptive_limiter&) = delete;

  // Waits for a slot (and room in the budget). Throws std::system_error(operation_aborted) if cancelled.
  asio::awaitable<permit> acquire();
  // Waits at most until d: errc::timeout, errc::cancelled, or a valid permit.
  asio::awaitable<std::pair<std::error_code, permit>> async_acquire(bp::deadline d);
  // A permit now if a slot and the budget are free and nobody is queued; else an empty permit.
  permit try_acquire();

  // A 429 (or a 503 with rate-limit headers) for a request whose permit was taken at sent_epoch
  // (epoch() then). Every request waits out `pause` (the server's Retry-After, or the backoff
  // chosen). Multiplicative decrease (window and budget halve) happens once
  // per congestion event: only for a request sent after the last decrease, so a burst of 429s to
  // requests that were in flight together halves once. The default sent_epoch always decreases.
  void on_rate_limited(bp::steady_clock::duration pause = {}, std::uint64_t sent_epoch = ~std::uint64_t{0});
  // The server said its quota is used up until `pause` from now: every request waits. No decrease
  // of window or budget: nothing was refused.
  void hold_for(bp::steady_clock::duration pause);
  // Additive increase, up to the configured maxima: the window about +1 per window of successes, the
  // budget by about rate_increase of its maximum (at least 1) per budget's worth of successes.
  void on_success();

  // Counts decreases; compare with on_rate_limited's sent_epoch.
  std::uint64_t epoch() const { return epoch_; }
  bp::steady_clock::time_point held_until() const { return hold_until_; }

  std::size_t limit() const;  // current concurrency limit (floor of the window)
  double window() const { return window_; }
  std::size_t in_use() const { return in_use_; }
  std::size_t waiting() const { return waiters_.size(); }
  // Current budget (budget_requests until a 429 lowers it; 0 without a budget) and the requests
  // that count against it now (in flight, or released less than budget_window ago).
  std::size_t budget() const;
  std::size_t budget_used();

 private:
  struct waiter;
  bool has_budget() const { return opts_.budget_requests > 0; }
  std::size_t cap() const;  // permits allowed in flight at once: the window, and the budget
  bool slot_free() const { return in_use_ < cap(); }
  // Takes a place in the budget if it has room (and no pause holds); otherwise the time until it
  // may have.
  bp::steady_clock::duration take_token();
  void forget_expired(bp::steady_clock::time_point now);
  bp::steady_clock::time_point now() const;
  void release_one(bp::steady_clock::time_point counted_from);  // counted_from <= now()
  void wake();

  asio::any_io_executor ex_;
  limiter_options opts_;
  double window_;
  std::size_t in_use_ = 0;
  std::uint64_t epoch_ = 0;
  bp::steady_clock::time_point hold_until_{};  // no permit before this (a server-requested pause)
  double budget_ = 0;  // current budget: opts_.budget_requests until a 429 lowers it
  // When released requests stopped counting budget_window later (answer begun, or release), less
  // than budget_window ago, in order.
  std::deque<bp::steady_clock::time_point> released_;
  std::list<waiter*> waiters_;
  std::size_t token_sleepers_ = 0;
};

}  // namespace bp::net
