// net::task_group: join() waits for every child, also when the joiner is cancelled (the children
// are cancelled first); children may use the parent's frame; a child's exception is rethrown only
// after all have finished.
#include "baton_percipio/net/task_group.hpp"

#include <doctest/doctest.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <stdexcept>
#include <system_error>
#include <vector>

using bp::net::task_group;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// Waits until cancelled; records how it ended in `log` (a local of the parent).
asio::awaitable<void> wait_until_cancelled(std::vector<int>& log, int id) {
  asio::steady_timer t(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
  auto [ec] = co_await t.async_wait(tuple_awaitable);
  log.push_back(ec == asio::error::operation_aborted ? id : -id);
}

// Yields `polls` times to the io_context, then records its id.
asio::awaitable<void> finish_after(std::vector<int>& log, int id, int polls) {
  for (int i = 0; i < polls; ++i) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  log.push_back(id);
}

asio::awaitable<void> fail_after(int polls) {
  for (int i = 0; i < polls; ++i) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  throw std::runtime_error("child failed");
}

}  // namespace

TEST_CASE("join waits for every child; children may use the parent's frame") {
  asio::io_context io;
  bool done = false;
  auto parent = [&]() -> asio::awaitable<void> {
    std::vector<int> log;  // lives in this frame; the children write to it
    task_group g(co_await asio::this_coro::executor);
    for (int i = 1; i <= 5; ++i) g.spawn(finish_after(log, i, 6 - i));
    CHECK(g.running() == 5);
    co_await g.join();
    CHECK(g.running() == 0);
    CHECK(log == std::vector<int>{5, 4, 3, 2, 1});
    done = true;
  };
  asio::co_spawn(io, parent(), asio::detached);
  io.run();
  CHECK(done);
}

TEST_CASE("a cancelled joiner cancels its children and still waits for all of them") {
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::vector<int> log;
  bool aborted = false;
  auto parent = [&]() -> asio::awaitable<void> {
    task_group g(co_await asio::this_coro::executor);
    for (int i = 1; i <= 3; ++i) g.spawn(wait_until_cancelled(log, i));
    try {
      co_await g.join();
    } catch (const std::system_error& e) {
      aborted = e.code() == asio::error::operation_aborted;
    }
    CHECK(log.size() == 3);  // every child had ended before join() returned
  };
  asio::co_spawn(io, parent(), asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  io.poll();  // the children are waiting now
  CHECK(log.empty());
  cancel.emit(asio::cancellation_type::terminal);
  io.run();
  CHECK(aborted);
  CHECK(log == std::vector<int>{1, 2, 3});
}

TEST_CASE("a child's exception is rethrown after the others finished; cancel_on_first_error stops them") {
  asio::io_context io;
  std::vector<int> log;
  std::string error;
  auto parent = [&](bool cancel_on_error) -> asio::awaitable<void> {
    task_group g(co_await asio::this_coro::executor);
    g.cancel_on_first_error(cancel_on_error);
    g.spawn(fail_after(2));
    g.spawn(finish_after(log, 7, 5));
    if (cancel_on_error) g.spawn(wait_until_cancelled(log, 8));
    try {
      co_await g.join();
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
  };
  SUBCASE("without cancel_on_first_error") {
    asio::co_spawn(io, parent(false), asio::detached);
    io.run();
    CHECK(error == "child failed");
    CHECK(log == std::vector<int>{7});
  }
  SUBCASE("with cancel_on_first_error") {
    asio::co_spawn(io, parent(true), asio::detached);
    io.run();
    CHECK(error == "child failed");
    CHECK(log == std::vector<int>{8});  // 8 saw the cancel in its wait, 7 at its next co_await
  }
}
