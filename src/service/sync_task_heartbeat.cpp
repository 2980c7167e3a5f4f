#include "sync_task_heartbeat.hpp"

#include "baton_percipio/core/log.hpp"

namespace bp::service {

heartbeat_keeper::heartbeat_keeper(task_context& ctx, std::string task_id, milliseconds first_interval,
                                   std::function<void(heartbeat_abort)> on_abort)
    : ctx_(ctx),
      task_id_(std::move(task_id)),
      interval_(first_interval),
      on_abort_(std::move(on_abort)),
      thread_([this](std::stop_token st) { run(st); }) {}

heartbeat_keeper::~heartbeat_keeper() { stop(); }

void heartbeat_keeper::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::string heartbeat_keeper::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void heartbeat_keeper::run(std::stop_token st) {
  // Lines from here carry the task id: the task loop sets it for the whole process while the task runs.
  int failures = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, st, interval_, [] { return false; })) return;
      if (st.stop_requested()) return;
    }
    auto hb = ctx_.client.heartbeat(ctx_.host_id, task_id_, st);  // a stop cancels it in flight
    if (st.stop_requested()) return;  // the task ended meanwhile: nothing to act on
    if (!hb.ok()) {
      ++failures;
      if (ctx_.metrics) ctx_.metrics->heartbeat_failed();
      {
        std::lock_guard lock(mu_);
        last_error_ = std::string(rpc_code_name(hb.status.code)) + ": " + hb.status.message;
      }
      log::warn("heartbeat failed", {{"code", rpc_code_name(hb.status.code)},
                                     {"error", hb.status.message},
                                     {"consecutive_failures", failures}});
      if (failures >= ctx_.timing.heartbeat_failure_limit) {
        abort_.store(heartbeat_abort::failed);
        on_abort_(heartbeat_abort::failed);
        return;
      }
      continue;  // same interval, try again
    }
    failures = 0;
    if (hb.reply.cancelled()) {
      log::info("ConductorOne cancelled the task");
      abort_.store(heartbeat_abort::cancelled);
      on_abort_(heartbeat_abort::cancelled);
      return;
    }
    interval_ = heartbeat_interval(ctx_.timing, hb.reply.has_next_heartbeat() ? &hb.reply.next_heartbeat() : nullptr);
  }
}

}  // namespace bp::service
