#include "baton_percipio/metrics/registry.hpp"

#include <fmt/format.h>

namespace bp::metrics {

void registry::sync_started() {
  std::lock_guard lock(mu_);
  ++sync_.syncs_started;
  sync_.sync_in_progress = true;
}

void registry::sync_succeeded(std::chrono::duration<double> took, const record_counts& records,
                              wall_clock::time_point finished_at) {
  std::lock_guard lock(mu_);
  ++sync_.syncs_succeeded;
  sync_.sync_in_progress = false;
  sync_.last_sync_duration_seconds = took.count();
  // Whole seconds and the fraction apart: nanoseconds since 1970 do not fit a double exactly.
  const auto since = finished_at.time_since_epoch();
  const auto whole = std::chrono::duration_cast<std::chrono::seconds>(since);
  sync_.last_success_timestamp_seconds =
      static_cast<double>(whole.count()) + std::chrono::duration<double>(since - whole).count();
  sync_.records = records;
  // The new file replaced the old one: there is a good file from now on.
  sync_.good_file_present = true;
}

void registry::sync_failed(std::chrono::duration<double> took) {
  std::lock_guard lock(mu_);
  ++sync_.syncs_failed;
  sync_.sync_in_progress = false;
  sync_.last_sync_duration_seconds = took.count();
}

void registry::set_good_file_present(bool present) {
  std::lock_guard lock(mu_);
  sync_.good_file_present = present;
}

void registry::service_started() {
  std::lock_guard lock(mu_);
  sync_.service.enabled = true;
}

void registry::service_connected() {
  std::lock_guard lock(mu_);
  sync_.service.connected = true;
}

void registry::task_done(std::string_view type, std::string_view outcome) {
  std::lock_guard lock(mu_);
  ++sync_.service.tasks[{std::string(type), std::string(outcome)}];
}

void registry::upload_done(std::uint64_t bytes) {
  std::lock_guard lock(mu_);
  ++sync_.service.uploads;
  sync_.service.upload_bytes += bytes;
}

void registry::heartbeat_failed() {
  std::lock_guard lock(mu_);
  ++sync_.service.heartbeat_failures;
}

snapshot registry::snap() const {
  snapshot s;
  {
    std::lock_guard lock(mu_);
    s = sync_;
  }
  s.requests = requests_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.rate_limited = rate_limited_.load(std::memory_order_relaxed);
  s.bytes_downloaded = bytes_.load(std::memory_order_relaxed);
  return s;
}

std::string registry::render() const { return metrics::render(snap()); }

namespace {

constexpr std::string_view prefix = "baton_percipio_";

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {}{} {}\n# TYPE {}{} {}\n", prefix, name, help, prefix,
                 name, type);
}

template <typename T>
void sample(std::string& out, std::string_view name, T value) {
  // {} prints doubles in their shortest round-trip form, which Prometheus parses.
  fmt::format_to(std::back_inserter(out), "{}{} {}\n", prefix, name, value);
}

template <typename T>
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help, T value) {
  family(out, name, type, help);
  sample(out, name, value);
}

}  // namespace

std::string render(const snapshot& s) {
  std::string out;
  out.reserve(2048);
  single(out, "syncs_started_total", "counter", "Syncs started since the process began.", s.syncs_started);
  single(out, "syncs_succeeded_total", "counter", "Syncs that wrote a new c1z file.", s.syncs_succeeded);
  single(out, "syncs_failed_total", "counter", "Syncs that failed; the last good file was kept.",
         s.syncs_failed);
  single(out, "last_success_timestamp_seconds", "gauge",
         "Unix time the last successful sync finished (0 if none yet).", s.last_success_timestamp_seconds);
  single(out, "last_sync_duration_seconds", "gauge", "Duration of the last finished sync, successful or not.",
         s.last_sync_duration_seconds);
  family(out, "records", "gauge", "Records written by the last successful sync, by resource type.");
  fmt::format_to(std::back_inserter(out),
                 "{0}records{{type=\"user\"}} {1}\n{0}records{{type=\"course\"}} {2}\n"
                 "{0}records{{type=\"entitlement\"}} {3}\n{0}records{{type=\"grant\"}} {4}\n",
                 prefix, s.records.users, s.records.courses, s.records.entitlements, s.records.grants);
  single(out, "requests_total", "counter", "HTTP requests sent to Percipio, retries included.", s.requests);
  single(out, "retries_total", "counter", "Percipio requests repeated after a retryable failure.", s.retries);
  single(out, "rate_limited_total", "counter", "Percipio responses with status 429 Too Many Requests.",
         s.rate_limited);
  single(out, "bytes_downloaded_total", "counter", "Response body bytes received from Percipio.",
         s.bytes_downloaded);
  single(out, "sync_in_progress", "gauge", "1 while a sync is running, else 0.", s.sync_in_progress ? 1 : 0);
  if (s.service.enabled) {
    single(out, "service_connected", "gauge", "1 once the ConductorOne startup Hello succeeded, else 0.",
           s.service.connected ? 1 : 0);
    family(out, "service_tasks_total", "counter", "ConductorOne tasks handled, by task type and outcome.");
    for (const auto& [key, n] : s.service.tasks) {
      fmt::format_to(std::back_inserter(out), "{}service_tasks_total{{type=\"{}\",outcome=\"{}\"}} {}\n", prefix,
                     key.first, key.second, n);
    }
    single(out, "service_uploads_total", "counter", "c1z files uploaded to ConductorOne.", s.service.uploads);
    single(out, "service_upload_bytes_total", "counter", "Bytes of the c1z files uploaded to ConductorOne.",
           s.service.upload_bytes);
    single(out, "service_heartbeat_failures_total", "counter", "Task heartbeats that failed.",
           s.service.heartbeat_failures);
  }
  return out;
}

}  // namespace bp::metrics
