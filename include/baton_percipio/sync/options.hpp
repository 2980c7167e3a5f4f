#pragma once
// Everything one sync needs, independent of where it came from (flags, environment, tests).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/net/client.hpp"
#include "baton_percipio/percipio/api_client.hpp"

namespace bp::sync {

enum class progress_mode { automatic, live_line, log_lines, off };

struct options {
  bool wants_type(std::string_view id) const {
    if (resource_types.empty()) return true;
    for (const auto& t : resource_types)
      if (t == id) return true;
    return false;
  }
  bool wants_entitlements() const { return !skip_entitlements_and_grants && wants_type("course"); }
  bool wants_grants() const { return wants_entitlements() && !skip_grants && wants_type("user"); }

  percipio::client_config api;          // base URL, org, token, concurrency, report settings
  net::client_options http;             // timeouts, TLS, limits
  std::vector<std::string> limited_courses;  // empty: the whole catalog
  std::filesystem::path destination = "sync.c1z";
  std::filesystem::path temp_dir;       // empty: next to the destination
  std::uint32_t file_mode = 0600;
  std::uint64_t max_report_bytes = 16ULL << 30;  // decoded report body; larger reports fail the sync
  std::chrono::seconds sync_timeout = std::chrono::hours(8);  // overall deadline of one sync
  std::size_t queue_batches = 8;        // bounded channel between fetchers and the writer thread
  // Report rows that arrive before the courses are listed wait in memory up to this many
  // (33 bytes each), then in an unlinked temporary file next to the output.
  std::size_t early_rows_in_memory = std::size_t{1} << 20;
  // Tests: users pages after the first are taken in only once the report has been folded, as on
  // paced syncs of large tenants, where the users list ends last (grants written before it ends).
  bool users_after_report = false;
  std::size_t batch_rows = 4096;        // rows per batch sent to the writer
  std::size_t writer_batch_size = 20000;  // rows per SQLite transaction
  std::uint32_t writer_page_size = 65536;  // SQLite page size: large rows, faster index builds (BENCHMARKS.md)
  bool writer_overlap_compression = true;  // compress the tables while the indexes build (c1z::writer_options)
  // What to sync (a ConductorOne task can narrow it). Resource type ids: "user", "course"; empty
  // means both. Grants need both types (a grant links a user to a course); without them, or with
  // skip_grants, the report is not even requested.
  std::vector<std::string> resource_types;
  bool skip_entitlements_and_grants = false;  // resources only
  bool skip_grants = false;                   // resources and entitlements
  progress_mode progress = progress_mode::automatic;
  std::chrono::milliseconds progress_interval{10000};  // between log lines (live line: 250 ms)
};

}  // namespace bp::sync
