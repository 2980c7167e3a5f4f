#include "baton_percipio/service/sync_task.hpp"

#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

#include "baton_percipio/core/log.hpp"
#include "sync_task_heartbeat.hpp"

namespace bp::service {
namespace {

namespace v1 = c1::connectorapi::baton::v1;

constexpr int resource_exhausted = 8;

// A private directory for one task's files (the c1z and the sync's working files), removed with
// everything in it however the task ends.
class task_dir {
 public:
  static std::optional<task_dir> make(const std::filesystem::path& parent, std::string& error) {
    std::string tmpl = (parent / "baton-percipio-task-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      error = "cannot create a temporary directory in " + parent.string() + ": " + std::strerror(errno);
      return std::nullopt;
    }
    return task_dir(tmpl);
  }
  task_dir(task_dir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  task_dir& operator=(task_dir&&) = delete;
  ~task_dir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) log::warn("could not remove the task's temporary directory", {{"path", path_.string()}, {"error", ec.message()}});
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit task_dir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

bool is_disk_full(const std::string& message) {
  return message.find(std::strerror(ENOSPC)) != std::string::npos ||
         message.find(std::strerror(EDQUOT)) != std::string::npos;
}

task_answer error_answer(int code, std::string message, bool non_retryable = false) {
  task_answer a;
  a.status = {code, log::redact(message)};
  a.non_retryable = non_retryable;
  a.outcome = code == rpc_code::cancelled ? "cancelled" : "error";
  return a;
}

// The sync's options for this task: where to write, and what the task narrows.
sync::options task_options(const task_context& ctx, const v1::Task::SyncFullTask& t, const std::filesystem::path& dir) {
  sync::options o = ctx.sync.base;
  o.destination = dir / "sync.c1z";
  o.temp_dir = dir;
  o.file_mode = 0600;
  o.progress = sync::progress_mode::log_lines;
  // A list sent in the task wins over a local one (spec 6.3).
  if (t.sync_resource_type_ids_size() > 0) {
    o.resource_types.assign(t.sync_resource_type_ids().begin(), t.sync_resource_type_ids().end());
  }
  o.skip_entitlements_and_grants = o.skip_entitlements_and_grants || t.skip_entitlements_and_grants();
  o.skip_grants = o.skip_grants || t.skip_grants();
  return o;
}

void record_sync(metrics::registry* reg, const sync::summary& s, bool ok) {
  if (!reg) return;
  const std::chrono::duration<double> took(s.wall_seconds);
  for (std::uint64_t i = 0; i < s.requests; ++i) reg->add_request();
  for (std::uint64_t i = 0; i < s.retries; ++i) reg->add_retry();
  for (std::uint64_t i = 0; i < s.rate_limited; ++i) reg->add_rate_limited();
  reg->add_bytes_downloaded(s.bytes_downloaded);
  if (ok) {
    reg->sync_succeeded(took, {.users = s.users, .courses = s.courses, .entitlements = s.entitlements, .grants = s.grants()});
  } else {
    reg->sync_failed(took);
  }
}

// Why the task stopped early, in the order the reasons are checked.
enum class abort_reason { none, server_cancelled, heartbeat_failed, shutdown };

task_answer answer_for_abort(abort_reason r, const std::string& heartbeat_error) {
  switch (r) {
    case abort_reason::server_cancelled: return error_answer(rpc_code::cancelled, "task cancelled by ConductorOne");
    case abort_reason::heartbeat_failed:
      return error_answer(rpc_code::unavailable, "task failed heartbeat: " + heartbeat_error);
    case abort_reason::shutdown: return error_answer(rpc_code::cancelled, "the connector is shutting down");
    case abort_reason::none: break;
  }
  return error_answer(rpc_code::internal, "task aborted");
}

// The work between the first heartbeat and FinishTask: sync, upload. Returns the answer to send.
task_answer sync_and_upload(task_context& ctx, const v1::Task& task, milliseconds first_interval) {
  const std::string& id = task.id();
  std::string error;
  auto dir = task_dir::make(ctx.sync.temp_dir.empty() ? std::filesystem::temp_directory_path() : ctx.sync.temp_dir,
                            error);
  if (!dir) return error_answer(rpc_code::internal, "could not prepare the sync: " + error);

  sync::stop_source sync_stop;
  std::atomic<abort_reason> reason{abort_reason::none};
  auto abort = [&](abort_reason r) {
    auto expected = abort_reason::none;
    reason.compare_exchange_strong(expected, r);
    sync_stop.request_stop();
  };
  // Runs at once if the process is already stopping.
  std::stop_callback on_shutdown(ctx.stop, [&] { abort(abort_reason::shutdown); });
  heartbeat_keeper heartbeats(ctx, id, first_interval, [&](heartbeat_abort a) {
    abort(a == heartbeat_abort::cancelled ? abort_reason::server_cancelled : abort_reason::heartbeat_failed);
  });

  const sync::options opts = task_options(ctx, task.sync_full(), dir->path());
  log::info("sync task started", {
                                  {"skip_entitlements_and_grants", opts.skip_entitlements_and_grants},
                                  {"skip_grants", opts.skip_grants},
                                  {"resource_types", opts.resource_types.size()}});
  sync::run_control ctl;
  ctl.stop = &sync_stop;
  sync::summary summary;
  std::optional<task_answer> failed;
  if (ctx.metrics) ctx.metrics->sync_started();
  try {
    summary = ctx.sync.run_sync ? ctx.sync.run_sync(opts, ctl, &summary) : sync::run_sync(opts, ctl, &summary);
    summary.ok = true;
  } catch (const sync::sync_error& e) {
    summary.ok = false;
    failed = answer_for_sync_failure(e.kind(), e.what());
    log::error("sync failed", {{"error", log::redact(e.what())}});
  } catch (const std::exception& e) {
    summary.ok = false;
    failed = error_answer(rpc_code::internal, std::string("sync failed: internal error: ") + e.what());
    log::error("sync failed", {{"error", log::redact(e.what())}});
  }
  log::set_sync_id("");
  record_sync(ctx.metrics, summary, summary.ok);
  if (ctx.sync.on_summary) ctx.sync.on_summary(summary, summary.ok);

  // An abort explains a cancelled sync better than the sync's own "cancelled".
  if (auto r = reason.load(); r != abort_reason::none) return answer_for_abort(r, heartbeats.last_error());
  if (failed) return *failed;

  auto up = ctx.client.upload_asset(opts.destination, id, ctx.host_id, [&] { return sync_stop.stop_requested(); });
  if (auto r = reason.load(); r != abort_reason::none) return answer_for_abort(r, heartbeats.last_error());
  if (!up.status.ok()) {
    log::error("upload failed", {{"attempts", up.attempts}, {"error", up.status.message}});
    return error_answer(up.status.code, "upload of the c1z file failed: " + up.status.message);
  }
  log::info("c1z uploaded", {{"bytes", up.bytes}, {"attempts", up.attempts}});
  if (ctx.metrics) ctx.metrics->upload_done(up.bytes);
  task_answer ok;
  ok.outcome = "success";
  return ok;
}

}  // namespace

task_answer answer_for_sync_failure(sync::failure_kind kind, const std::string& message) {
  const std::string m = log::redact(message);
  switch (kind) {
    case sync::failure_kind::auth:
      return error_answer(rpc_code::permission_denied, "Percipio rejected the API token or organization: " + m);
    case sync::failure_kind::upstream: return error_answer(rpc_code::unavailable, "Percipio kept failing: " + m);
    case sync::failure_kind::output:
      return error_answer(is_disk_full(m) ? resource_exhausted : rpc_code::internal,
                          "could not write the c1z file: " + m);
    case sync::failure_kind::cancelled: return error_answer(rpc_code::cancelled, "sync cancelled: " + m);
    case sync::failure_kind::configuration:
      // The same settings fail the same way on every attempt.
      return error_answer(rpc_code::failed_precondition, "connector configuration error: " + m, true);
    case sync::failure_kind::internal: break;
  }
  return error_answer(rpc_code::internal, "sync failed: " + m);
}

task_answer run_sync_task(task_context& ctx, const v1::Task& task) {
  const std::string& id = task.id();
  task_answer answer;
  auto first = ctx.client.heartbeat(ctx.host_id, id);
  if (!first.ok()) {
    if (ctx.metrics) ctx.metrics->heartbeat_failed();
    answer = error_answer(rpc_code::unavailable,
                          "first heartbeat failed: " + std::string(rpc_code_name(first.status.code)) + ": " +
                              first.status.message);
  } else if (first.reply.cancelled()) {
    answer = error_answer(rpc_code::cancelled, "task cancelled by ConductorOne before the sync started");
  } else if (ctx.stop.stop_requested()) {
    answer = error_answer(rpc_code::cancelled, "the connector is shutting down");
  } else {
    answer = sync_and_upload(
        ctx, task, heartbeat_interval(ctx.timing, first.reply.has_next_heartbeat() ? &first.reply.next_heartbeat() : nullptr));
  }

  baton_client& finisher = ctx.stop.stop_requested() && ctx.shutdown_client ? *ctx.shutdown_client : ctx.client;
  auto fin = answer.status.ok() ? finisher.finish_success(ctx.host_id, id)
                                : finisher.finish_error(ctx.host_id, id, answer.status, answer.non_retryable);
  answer.finish_sent = fin.ok();
  if (!fin.ok()) {
    // Not retried (as the SDK does): ConductorOne times the task out and hands it out again.
    log::error("FinishTask failed", {{"code", rpc_code_name(fin.status.code)}, {"error", fin.status.message}});
  }
  if (answer.status.ok()) {
    log::info("sync task finished", {});
  } else {
    log::warn("sync task failed", {{"code", rpc_code_name(answer.status.code)},
                                   {"error", answer.status.message},
                                   {"non_retryable", answer.non_retryable}});
  }
  return answer;
}

}  // namespace bp::service
