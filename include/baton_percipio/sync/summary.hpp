#pragma once
// What one sync did: counts per record type, skipped rows by reason, traffic and cost.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bp::sync {

struct summary {
  std::string sync_id;
  std::string file;
  bool ok = false;
  std::string error;  // one line, empty when ok

  std::uint64_t resource_types = 0;
  std::uint64_t users = 0;
  std::uint64_t courses = 0;
  std::uint64_t entitlements = 0;
  std::uint64_t grants_completed = 0;
  std::uint64_t grants_in_progress = 0;
  std::uint64_t grants_upgraded = 0;  // in_progress grants replaced by a later completed row

  std::uint64_t duplicate_users = 0;        // same id on several pages: first copy kept
  std::uint64_t duplicate_courses = 0;
  std::uint64_t catalog_items = 0;          // items seen in the catalog (all types)
  std::uint64_t catalog_skipped = 0;        // not COURSE/ASSESSMENT, or INACTIVE
  std::vector<std::string> limited_not_found;  // --limited-courses ids without an exact match

  std::uint64_t report_rows = 0;
  std::uint64_t report_rows_unusable = 0;   // rows without usable user/content ids
  std::uint64_t rows_unknown_user = 0;
  std::uint64_t rows_unknown_course = 0;
  std::uint64_t rows_merged = 0;            // duplicates of a (user, course) pair already granted
  std::map<std::string, std::uint64_t> rows_unmapped_status;  // per status value ("" = empty)
  int report_jobs = 0;
  int report_downloads = 0;

  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t bytes_downloaded = 0;
  std::uint64_t report_polls = 0;
  std::uint64_t rows_early_spilled = 0;  // report rows that waited for the courses in the temporary file
  // The report ended before the users list: grants were written (and indexed) while the list was
  // still coming, then those of users it did not deliver, or delivered in another id form, redone.
  bool grants_before_users = false;
  std::uint64_t grants_corrected_users = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t database_bytes = 0;  // the uncompressed SQLite database inside the .c1z
  double finish_seconds = 0;         // from the last record to the renamed file
  double index_seconds = 0;          // of which building the deferred indexes (tables compress meanwhile)
  double compress_seconds = 0;       // and the rest of the compression, fsync and rename
  double wall_seconds = 0;
  double cpu_seconds = 0;
  std::uint64_t peak_rss_bytes = 0;

  std::uint64_t grants() const { return grants_completed + grants_in_progress; }
  std::uint64_t rows_unmapped() const;
  // Human-readable block of lines.
  std::string to_text() const;
  // One JSON object (no trailing newline).
  std::string to_json() const;
};

}  // namespace bp::sync
