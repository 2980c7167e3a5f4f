#include "baton_percipio/sync/summary.hpp"

#include <fmt/format.h>

#include "baton_percipio/core/json_writer.hpp"

namespace bp::sync {

std::uint64_t summary::rows_unmapped() const {
  std::uint64_t n = 0;
  for (const auto& [k, v] : rows_unmapped_status) n += v;
  return n;
}

std::string summary::to_text() const {
  std::string o;
  auto line = [&](std::string_view k, const std::string& v) { o += fmt::format("  {:<36}{}\n", k, v); };
  o += ok ? "Sync finished\n" : "Sync failed\n";
  if (!ok) line("error", error);
  line("sync id", sync_id);
  line("file", file_bytes ? fmt::format("{} ({} bytes)", file, file_bytes) : file);
  line("resource types", std::to_string(resource_types));
  line("users", std::to_string(users));
  line("courses", std::to_string(courses));
  line("entitlements", std::to_string(entitlements));
  line("grants", fmt::format("{} ({} completed, {} in_progress)", grants(), grants_completed, grants_in_progress));
  line("report rows", fmt::format("{} ({} jobs, {} downloads, {} polls)", report_rows, report_jobs,
                                  report_downloads, report_polls));
  line("rows skipped: unknown user", std::to_string(rows_unknown_user));
  line("rows skipped: unknown course", std::to_string(rows_unknown_course));
  line("rows skipped: unusable ids", std::to_string(report_rows_unusable));
  for (const auto& [status, n] : rows_unmapped_status) {
    line(fmt::format("rows skipped: status \"{}\"", status), std::to_string(n));
  }
  if (rows_early_spilled) line("rows waiting for courses on disk", std::to_string(rows_early_spilled));
  if (grants_before_users) {
    line("grants written before the users list ended",
         fmt::format("yes ({} users' grants corrected)", grants_corrected_users));
  }
  line("rows merged (duplicates)", fmt::format("{} ({} upgraded to completed)", rows_merged, grants_upgraded));
  line("catalog items", fmt::format("{} ({} not synced: type or INACTIVE)", catalog_items, catalog_skipped));
  if (duplicate_users || duplicate_courses) {
    line("duplicates dropped", fmt::format("{} users, {} courses", duplicate_users, duplicate_courses));
  }
  if (!limited_not_found.empty()) {
    std::string ids;
    for (const auto& id : limited_not_found) ids += (ids.empty() ? "" : ", ") + id;
    line("limited courses not found", ids);
  }
  line("requests", fmt::format("{} ({} retries, {} rate limited)", requests, retries, rate_limited));
  line("downloaded", fmt::format("{:.1f} MB", static_cast<double>(bytes_downloaded) / 1e6));
  line("wall time", fmt::format("{:.2f} s (cpu {:.2f} s)", wall_seconds, cpu_seconds));
  if (ok) {
    line("writing the file", fmt::format("{:.2f} s (indexes {:.2f} s, compression {:.2f} s; {:.1f} MB database)",
                                         finish_seconds, index_seconds, compress_seconds,
                                         static_cast<double>(database_bytes) / 1e6));
  }
  line("peak memory", fmt::format("{:.1f} MB", static_cast<double>(peak_rss_bytes) / 1e6));
  return o;
}

std::string summary::to_json() const {
  std::string o;
  json::writer w(o);
  w.begin_object();
  w.key("ok").value(ok);
  if (!ok) w.key("error").value(error);
  w.key("sync_id").value(sync_id);
  w.key("file").value(file);
  w.key("file_bytes").value(file_bytes);
  w.key("database_bytes").value(database_bytes);
  w.key("report_rows_spilled").value(rows_early_spilled);
  w.key("grants_before_users").value(grants_before_users);
  w.key("grants_corrected_users").value(grants_corrected_users);
  w.key("resource_types").value(resource_types);
  w.key("users").value(users);
  w.key("courses").value(courses);
  w.key("entitlements").value(entitlements);
  w.key("grants").value(grants());
  w.key("grants_completed").value(grants_completed);
  w.key("grants_in_progress").value(grants_in_progress);
  w.key("grants_upgraded").value(grants_upgraded);
  w.key("report_rows").value(report_rows);
  w.key("report_jobs").value(static_cast<std::int64_t>(report_jobs));
  w.key("report_downloads").value(static_cast<std::int64_t>(report_downloads));
  w.key("report_polls").value(report_polls);
  w.key("skipped").begin_object();
  w.key("unknown_user").value(rows_unknown_user);
  w.key("unknown_course").value(rows_unknown_course);
  w.key("unusable_ids").value(report_rows_unusable);
  w.key("status").begin_object();
  for (const auto& [k, v] : rows_unmapped_status) w.key(k).value(v);
  w.end_object();
  w.end_object();
  w.key("rows_merged").value(rows_merged);
  w.key("catalog_items").value(catalog_items);
  w.key("catalog_skipped").value(catalog_skipped);
  w.key("duplicate_users").value(duplicate_users);
  w.key("duplicate_courses").value(duplicate_courses);
  w.key("limited_not_found").begin_array();
  for (const auto& id : limited_not_found) w.value(id);
  w.end_array();
  w.key("requests").value(requests);
  w.key("retries").value(retries);
  w.key("rate_limited").value(rate_limited);
  w.key("bytes_downloaded").value(bytes_downloaded);
  w.key("wall_seconds").value(wall_seconds);
  w.key("finish_seconds").value(finish_seconds);
  w.key("index_seconds").value(index_seconds);
  w.key("compress_seconds").value(compress_seconds);
  w.key("cpu_seconds").value(cpu_seconds);
  w.key("peak_rss_bytes").value(peak_rss_bytes);
  w.end_object();
  return o;
}

}  // namespace bp::sync
