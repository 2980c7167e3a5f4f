#pragma once
// The sync metrics of one process, updated from any thread and rendered in the Prometheus text
// exposition format 0.0.4. Nothing here carries configuration: no labels but the record type, so
// the token or organization can never end up in a scrape.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace bp::metrics {

// Content-Type of a /metrics response.
inline constexpr std::string_view text_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Records of one sync by resource kind; rendered as baton_percipio_records{type="..."}.
struct record_counts {
  std::uint64_t users = 0;
  std::uint64_t courses = 0;
  std::uint64_t entitlements = 0;
  std::uint64_t grants = 0;
};

// ConductorOne service mode: task and upload counters. Labels come from a fixed vocabulary (task
// type names of the protocol, outcome names of the task loop), never from a request's content.
struct service_counts {
  bool enabled = false;    // service mode runs: rendered, and /readyz follows `connected`
  bool connected = false;  // the startup Hello succeeded
  std::map<std::pair<std::string, std::string>, std::uint64_t> tasks;  // (type, outcome) -> count
  std::uint64_t uploads = 0;       // files ConductorOne accepted
  std::uint64_t upload_bytes = 0;  // their sizes
  std::uint64_t heartbeat_failures = 0;
};

// Everything the registry holds at one moment; render() prints exactly this.
struct snapshot {
  std::uint64_t syncs_started = 0;
  std::uint64_t syncs_succeeded = 0;
  std::uint64_t syncs_failed = 0;
  double last_success_timestamp_seconds = 0;  // Unix time; 0 = never
  double last_sync_duration_seconds = 0;      // the last finished sync, succeeded or failed
  record_counts records;                      // of the last successful sync
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t bytes_downloaded = 0;
  bool sync_in_progress = false;
  bool good_file_present = false;
  service_counts service;
  // /readyz: a sync succeeded in this process, or a last good file is there to be served. In
  // service mode: the startup Hello succeeded (files go to ConductorOne, none is served locally).
  bool ready() const { return service.enabled ? service.connected : (syncs_succeeded > 0 || good_file_present); }
};

class registry {
 public:
  using wall_clock = std::chrono::system_clock;

  // Sync lifecycle, called by the sync loop.
  void sync_started();
  void sync_succeeded(std::chrono::duration<double> took, const record_counts& records,
                      wall_clock::time_point finished_at = wall_clock::now());
  void sync_failed(std::chrono::duration<double> took);
  // Whether a previous good output file exists (checked at start-up by the daemon).
  void set_good_file_present(bool present);

  // Service mode, called by the task loop.
  void service_started();
  void service_connected();
  void task_done(std::string_view type, std::string_view outcome);
  void upload_done(std::uint64_t bytes);
  void heartbeat_failed();

  // Upstream traffic, called by the HTTP layer; lock-free.
  void add_request() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void add_retry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  void add_rate_limited() { rate_limited_.fetch_add(1, std::memory_order_relaxed); }
  void add_bytes_downloaded(std::uint64_t n) { bytes_.fetch_add(n, std::memory_order_relaxed); }

  snapshot snap() const;
  bool ready() const { return snap().ready(); }
  std::string render() const;

 private:
  mutable std::mutex mu_;
  snapshot sync_;  // the sync-level fields, guarded by mu_ (traffic fields live in the atomics)
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> rate_limited_{0};
  std::atomic<std::uint64_t> bytes_{0};
};

// Prometheus text exposition format 0.0.4 with HELP and TYPE lines, in a fixed order.
std::string render(const snapshot& s);

}  // namespace bp::metrics
