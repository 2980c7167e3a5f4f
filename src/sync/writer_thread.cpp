#include "writer_thread.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace bp::sync::detail {

writer_thread::writer_thread(std::size_t queue_batches, apply_fn apply)
    : ch_(ctx_, queue_batches), apply_(std::move(apply)) {
  asio::co_spawn(
      ctx_,
      [this]() -> asio::awaitable<void> {
        std::string scratch;
        for (;;) {
          auto [ec, batch] = co_await ch_.async_receive(asio::experimental::as_tuple(asio::use_awaitable));
          if (ec || batch.empty()) break;  // closed (failure) or the end-of-stream batch
          if (!discard_.load(std::memory_order_relaxed)) apply_(batch, scratch);
        }
      },
      [this](std::exception_ptr e) {
        if (!e) return;
        {
          std::lock_guard lock(mu_);
          error_ = e;
        }
        ch_.close();  // producers see a closed channel and fail the sync
      });
  thread_ = std::jthread([this] { ctx_.run(); });
}

writer_thread::~writer_thread() {
  discard();
  join();
}

void writer_thread::discard() {
  discard_.store(true, std::memory_order_relaxed);
  ch_.close();  // wakes the writer; whatever is still buffered is dropped
}

void writer_thread::join() {
  if (thread_.joinable()) thread_.join();
}

std::exception_ptr writer_thread::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

}  // namespace bp::sync::detail
