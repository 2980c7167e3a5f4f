#pragma once
// The last line of defence of a cancelled sync: once armed, stops the io_context after a grace
// period unless the context drained by itself first. It runs on a thread of its own, so it fires
// even when the io thread is busy, and it stays armed until the owner says the context is drained
// (io_context::run returned), not merely until the sync's coroutine completed.
#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace bp::sync::detail {

class hard_stop {
 public:
  hard_stop(asio::io_context& io, std::chrono::milliseconds grace);
  ~hard_stop();  // disarms and joins
  hard_stop(const hard_stop&) = delete;
  hard_stop& operator=(const hard_stop&) = delete;

  void arm();      // any thread; idempotent: the first call starts the grace period
  void drained();  // io_context::run returned: nothing left to stop
  bool fired() const;

 private:
  asio::io_context& io_;
  const std::chrono::milliseconds grace_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool drained_ = false;
  bool fired_ = false;
  std::jthread thread_;  // last: started after every other member exists, joined first
};

}  // namespace bp::sync::detail
