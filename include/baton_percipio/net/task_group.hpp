#pragma once
// Structured concurrency for coroutines on one executor. A parent spawns children into a group
// and always awaits join(): join() returns only when every child has finished, also when the
// parent is cancelled while waiting (the children are cancelled first, then awaited). Children
// may therefore reference the parent's frame safely. The group is single-threaded: spawn, cancel
// and join from the executor's thread.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_type.hpp>
#include <cstddef>
#include <exception>
#include <memory>

namespace bp::net {

class task_group {
 public:
  explicit task_group(asio::any_io_executor ex);
  // join() must have been awaited; a group destroyed with live children only drops its reference
  // (that happens only when the whole io_context is torn down).
  ~task_group();
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // Starts `child` on the group's executor. Its exception, if any, is rethrown by join().
  void spawn(asio::awaitable<void> child);
  // Cancels every live child (they see it at their next cancellable await).
  void cancel(asio::cancellation_type type = asio::cancellation_type::terminal);
  // Cancels every live child when one fails, so the group ends soon after its first error.
  void cancel_on_first_error(bool on) { cancel_on_error_ = on; }
  std::size_t running() const;

  // Waits for all children. If the awaiting coroutine is cancelled, the children are cancelled and
  // still awaited, then operation_aborted is thrown. Otherwise the first child exception (in
  // completion order) is rethrown.
  asio::awaitable<void> join();

 private:
  struct state;
  asio::any_io_executor ex_;
  std::shared_ptr<state> st_;
  bool cancel_on_error_ = false;
};

}  // namespace bp::net
