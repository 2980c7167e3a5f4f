#include "baton_percipio/net/task_group.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <list>
#include <system_error>

namespace bp::net {

namespace {
struct child {
  asio::cancellation_signal sig;
  bool live = true;  // cleared by the child itself as its last step: never emit on a finished child
};
}  // namespace

struct task_group::state {
  explicit state(const asio::any_io_executor& ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer wake;  // cancelled when the last child completes
  std::list<child> children;
  std::size_t left = 0;
  std::exception_ptr first_error;
  bool cancel_on_error = false;

  void cancel_all(asio::cancellation_type t) {
    for (auto& c : children) {
      if (c.live) c.sig.emit(t);
    }
  }
};

task_group::task_group(asio::any_io_executor ex) : ex_(std::move(ex)), st_(std::make_shared<state>(ex_)) {}

task_group::~task_group() = default;

std::size_t task_group::running() const { return st_->left; }

void task_group::cancel(asio::cancellation_type type) { st_->cancel_all(type); }

void task_group::spawn(asio::awaitable<void> a) {
  st_->cancel_on_error = cancel_on_error_;
  auto it = st_->children.emplace(st_->children.end());
  ++st_->left;
  // The wrapper marks the child finished inside its own frame, before co_spawn posts the
  // completion: between the two nothing may emit on its signal.
  auto wrapped = [](asio::awaitable<void> body, child* c) -> asio::awaitable<void> {
    std::exception_ptr e;
    try {
      co_await std::move(body);
    } catch (...) {
      e = std::current_exception();
    }
    c->live = false;
    if (e) std::rethrow_exception(e);
  };
  auto slot = it->sig.slot();
  asio::co_spawn(ex_, wrapped(std::move(a), &*it),
                 asio::bind_cancellation_slot(slot, [st = st_, it](std::exception_ptr e) {
                   st->children.erase(it);
                   if (e && !st->first_error) {
                     st->first_error = e;
                     if (st->cancel_on_error) st->cancel_all(asio::cancellation_type::terminal);
                   }
                   if (--st->left == 0) st->wake.cancel();
                 }));
}

asio::awaitable<void> task_group::join() {
  auto st = st_;
  const bool throw_before = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);  // we must keep waiting after a cancel
  bool cancelled = false;
  for (;;) {
    auto cs = co_await asio::this_coro::cancellation_state;
    if (!cancelled && cs.cancelled() != asio::cancellation_type::none) {
      cancelled = true;
      st->cancel_all(asio::cancellation_type::terminal);
    }
    if (st->left == 0) break;
    st->wake.expires_at(asio::steady_timer::time_point::max());
    co_await st->wake.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  co_await asio::this_coro::throw_if_cancelled(throw_before);
  if (st->first_error) std::rethrow_exception(st->first_error);
  if (cancelled) throw std::system_error(asio::error::operation_aborted, "task_group::join");
}

}  // namespace bp::net
