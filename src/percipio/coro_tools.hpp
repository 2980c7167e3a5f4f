#pragma once
// Two small coroutine tools of the API client: a cancellable sleep, and n workers run as one.
#include <asio/awaitable.hpp>
#include <cstddef>
#include <functional>

#include "baton_percipio/core/deadline.hpp"

namespace bp::percipio::detail {

// False when the wait was cancelled: the caller ends instead of going on.
asio::awaitable<bool> sleep_until(bp::steady_clock::time_point t);

// Runs n copies of `worker` concurrently and waits for all of them, also when this coroutine is
// cancelled (the workers are cancelled first): workers may use the caller's frame. Workers report
// expected failures through shared state; an exception (a bug) is rethrown after all have finished.
asio::awaitable<void> run_workers(std::size_t n, std::function<asio::awaitable<void>()> worker);

}  // namespace bp::percipio::detail
