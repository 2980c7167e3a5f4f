#pragma once
// The writer thread of one sync and everything it shares with the io thread. It owns SQLite through
// `apply`; it receives batches from the bounded channel until the end-of-stream batch or a close.
// The object always joins its thread (also when an exception unwinds past it), and hands the
// writer's error over under a mutex.
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "record_batch.hpp"

namespace bp::sync::detail {

using batch_channel = asio::experimental::concurrent_channel<void(asio::error_code, record_batch)>;

class writer_thread {
 public:
  using apply_fn = std::function<void(record_batch&, std::string& scratch)>;
  writer_thread(std::size_t queue_batches, apply_fn apply);
  ~writer_thread();  // discards what is still queued and joins
  writer_thread(const writer_thread&) = delete;
  writer_thread& operator=(const writer_thread&) = delete;

  batch_channel& channel() { return ch_; }
  // Drops whatever is still queued (the sync failed) and wakes the thread.
  void discard();
  // Waits for the thread to finish (after the end-of-stream batch, or discard()).
  void join();
  // The writer's failure, if any; safe from any thread.
  std::exception_ptr error() const;

 private:
  asio::io_context ctx_;
  batch_channel ch_;
  apply_fn apply_;
  std::atomic<bool> discard_{false};
  mutable std::mutex mu_;
  std::exception_ptr error_;
  std::jthread thread_;  // last member: started once everything it uses exists
};

}  // namespace bp::sync::detail
