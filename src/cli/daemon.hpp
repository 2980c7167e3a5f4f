#pragma once
// The long-running side of the bare command: --interval DURATION syncs, sleeps and repeats until
// SIGINT/SIGTERM, feeding the metrics registry behind --metrics-addr. Clock, sleeper and the sync
// itself are injectable so tests run several intervals without waiting.
//
// Schedule: a successful sync that started at S is followed by the next one at S + interval (at
// once when the sync took longer than that). After a failure the last good file stays untouched
// and the sync is retried after 30 s, doubling on each further failure, capped at the interval.
// A `configuration` failure cannot heal by retrying: the daemon exits with exit_config. A stop
// request ends the sleep at once and cancels a running sync; the daemon then exits 0.
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <signal.h>
#include <string>
#include <stop_token>
#include <string_view>
#include <system_error>
#include <thread>

#include "baton_percipio/metrics/registry.hpp"
#include "baton_percipio/metrics/server.hpp"
#include "baton_percipio/sync/run.hpp"

namespace bp::cli {

using steady = std::chrono::steady_clock;

// Stops the daemon (or a one-shot sync) from any thread: cancels the running sync through its
// stop_source (polled every 100 ms) and wakes the sleep between syncs.
class stop_signal {
 public:
  void request_stop();
  bool stop_requested() const;
  // Blocks until `until` or a stop request, whichever comes first; false when stopped.
  bool wait_until(steady::time_point until);
  sync::stop_source& sync_source() { return sync_stop_; }
  // The same request as a std::stop_token (service mode waits on it).
  std::stop_token token() const { return std_stop_.get_token(); }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  sync::stop_source sync_stop_;
  std::stop_source std_stop_;
};

// Turns SIGINT/SIGTERM into stop_signal::request_stop. Blocks both signals in the constructing
// thread, so construct it before any other thread starts (threads inherit the mask), and reads
// them from a signalfd on a thread of its own. The destructor restores the previous mask.
class signal_watcher {
 public:
  explicit signal_watcher(stop_signal& stop);
  ~signal_watcher();
  signal_watcher(const signal_watcher&) = delete;
  signal_watcher& operator=(const signal_watcher&) = delete;
  int last_signal() const;  // 0 = none yet

 private:
  sigset_t old_mask_{};
  int signal_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<int> last_signal_{0};
  std::thread thread_;
};

// The metrics endpoint on an io_context thread of its own, for the life of the object.
class background_metrics {
 public:
  // nullptr with ec set when it cannot listen (address in use, unknown host).
  static std::unique_ptr<background_metrics> start(std::string_view host, std::uint16_t port,
                                                   const metrics::registry& reg, std::error_code& ec);
  ~background_metrics();
  std::uint16_t port() const { return server_->port(); }

 private:
  background_metrics() = default;
  asio::io_context ctx_;
  std::unique_ptr<metrics::metrics_server> server_;
  std::thread thread_;
};

// What one sync ended with, as the loop sees it.
struct sync_outcome {
  bool ok = false;
  sync::failure_kind kind = sync::failure_kind::internal;  // when !ok
  std::string error;                                        // when !ok, one line
  sync::summary summary;                                    // also of a failed sync, as far as it got
};

struct runner_hooks {
  // Monotonic time; default steady_clock::now.
  std::function<steady::time_point()> now;
  // Waits until `until` unless `stop` is requested first; false when stopped. Default: stop.wait_until.
  std::function<bool(steady::time_point until, stop_signal& stop)> sleep_until;
  // One sync; default sync::run_sync.
  std::function<sync::summary(const sync::options&, const sync::run_control&, sync::summary*)> run_sync;
  // Called after every sync (the CLI prints the summary here).
  std::function<void(const sync_outcome&)> on_sync_done;
};

// Sets the registry's good-file flag from whether `destination` exists as a non-empty file.
void note_existing_output(metrics::registry& reg, const std::filesystem::path& destination);

// Runs one sync, cancelled by `stop`, and records it in `reg` (may be null): started, succeeded or
// failed, duration, records by type, and the sync's traffic. Clears the log's sync id afterwards.
sync_outcome run_one_sync(const sync::options& opts, stop_signal& stop, metrics::registry* reg,
                          const runner_hooks& hooks = {});

struct daemon_settings {
  std::chrono::seconds interval{std::chrono::hours(6)};
  std::chrono::seconds first_retry{30};  // after the first failure; doubles, capped at `interval`
};

// Wait before the retry that follows the `failures`-th consecutive failure (1 = first).
std::chrono::seconds retry_delay(const daemon_settings& s, unsigned failures);

struct daemon_result {
  int exit_code = 0;  // exit_ok after a stop request; exit_config after a configuration failure
  std::uint64_t syncs_succeeded = 0;
  std::uint64_t syncs_failed = 0;  // a sync cancelled by the stop request counts here too
};

// The --interval loop. Returns when `stop` is requested or a sync fails for a configuration reason.
daemon_result run_daemon(const sync::options& opts, const daemon_settings& settings, stop_signal& stop,
                         metrics::registry* reg, const runner_hooks& hooks = {});

}  // namespace bp::cli
