#pragma once
// The fetch side of one sync, on the io thread: users, catalog and the learning-activity report are
// fetched together and mapped into record batches for the writer thread's channel.
#include <asio/awaitable.hpp>
#include <memory>

#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/percipio/api_client.hpp"
#include "baton_percipio/sync/options.hpp"
#include "baton_percipio/sync/summary.hpp"
#include "progress.hpp"
#include "writer_thread.hpp"

namespace bp::sync::detail {

class pipeline {
 public:
  pipeline(const options& opts, percipio::api_client& api, batch_channel& ch, summary& s, progress_state& prog);
  ~pipeline();
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  // Fetches and maps everything, then sends the end-of-stream batch. Throws sync_error on failure;
  // every coroutine it starts has ended when it returns or throws.
  asio::awaitable<void> run(bp::deadline d);
  // The report is delivered again from its first row (after a failed download): per-row statistics
  // start over; grants are idempotent per pair.
  void restart_row_statistics();

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::sync::detail
