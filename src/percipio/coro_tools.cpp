#include "coro_tools.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>

#include "baton_percipio/net/task_group.hpp"

namespace bp::percipio::detail {

asio::awaitable<bool> sleep_until(bp::steady_clock::time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  std::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return ec != asio::error::operation_aborted;
}

asio::awaitable<void> run_workers(std::size_t n, std::function<asio::awaitable<void>()> worker) {
  net::task_group group(co_await asio::this_coro::executor);
  group.cancel_on_first_error(true);
  std::exception_ptr spawn_error;
  try {
    for (std::size_t i = 0; i < n; ++i) group.spawn(worker());
  } catch (...) {
    spawn_error = std::current_exception();
    group.cancel();
  }
  co_await group.join();
  if (spawn_error) std::rethrow_exception(spawn_error);
}

}  // namespace bp::percipio::detail
