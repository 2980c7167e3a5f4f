#pragma once
// One full sync: Percipio -> .c1z, end to end. Fetchers run as coroutines on one io_context; a bounded
// channel carries encoded rows to one writer thread that owns SQLite. On any failure or cancellation
// the destination file is left exactly as it was.
#include <atomic>
#include <stdexcept>
#include <string>

#include "baton_percipio/sync/options.hpp"
#include "baton_percipio/sync/summary.hpp"

namespace bp::sync {

enum class failure_kind { configuration, auth, upstream, output, cancelled, internal };

class sync_error : public std::runtime_error {
 public:
  sync_error(failure_kind k, const std::string& what) : std::runtime_error(what), kind_(k) {}
  failure_kind kind() const noexcept { return kind_; }

 private:
  failure_kind kind_;
};

// Cancels a running sync from any thread (signal handlers use request_stop through a self-pipe-free
// atomic that the sync polls, plus its own signal_set when handle_signals is true).
class stop_source {
 public:
  void request_stop() noexcept { stop_.store(true, std::memory_order_release); }
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> stop_{false};
};

struct run_control {
  stop_source* stop = nullptr;  // optional external cancellation
  bool handle_signals = false;  // SIGINT/SIGTERM cancel the sync (CLI); tests leave it off
};

// Runs one sync. Returns the summary on success; throws sync_error on failure (the summary of the
// failed run is in `last_summary` when given).
summary run_sync(const options& opts, const run_control& ctl = {}, summary* last_summary = nullptr);

}  // namespace bp::sync
