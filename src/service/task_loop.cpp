#include "baton_percipio/service/task_loop.hpp"

#include <array>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/service/hello_request.hpp"

namespace bp::service {
namespace {

namespace v1 = c1::connectorapi::baton::v1;

bool is_auth_code(int code) { return code == rpc_code::unauthenticated || code == rpc_code::permission_denied; }

// Codes after which the SDK's startup gives up: the request itself is wrong.
bool is_permanent_code(int code) {
  return code == rpc_code::invalid_argument || code == rpc_code::unimplemented ||
         code == rpc_code::failed_precondition || code == rpc_code::not_found;
}

// Clears the log's task id when a task is done, however it ends.
struct task_log_scope {
  explicit task_log_scope(const std::string& id) { log::set_task_id(id); }
  ~task_log_scope() { log::set_task_id(""); }
  task_log_scope(const task_log_scope&) = delete;
  task_log_scope& operator=(const task_log_scope&) = delete;
};

std::string finish_with_error(task_context& ctx, const v1::Task& task, int code, std::string_view message,
                              bool non_retryable) {
  auto fin = ctx.client.finish_error(ctx.host_id, task.id(), {code, std::string(message)}, non_retryable);
  if (!fin.ok()) {
    log::error("FinishTask failed", {{"code", rpc_code_name(fin.status.code)}, {"error", fin.status.message}});
  }
  log::info("task refused", {{"type", task_type_name(task)},
                             {"code", rpc_code_name(code)},
                             {"message", message},
                             {"non_retryable", non_retryable}});
  return "error";
}

}  // namespace

startup_outcome startup_hello(task_context& ctx) {
  const auto req = make_hello_request(ctx.host_id);
  unsigned failures = 0;
  for (;;) {
    if (ctx.stop.stop_requested()) return {startup_result::stopped, {rpc_code::cancelled, "stopped"}};
    auto r = ctx.client.hello(req);
    if (r.ok()) {
      log::info("connected to ConductorOne", {{"host_id", ctx.host_id}});
      return {startup_result::connected, {}};
    }
    if (is_auth_code(r.status.code)) return {startup_result::auth_failed, r.status};
    if (is_permanent_code(r.status.code)) return {startup_result::rejected, r.status};
    ++failures;
    const auto wait = hello_backoff(ctx.timing, failures);
    log::warn("Hello failed; will retry", {{"code", rpc_code_name(r.status.code)},
                                           {"error", r.status.message},
                                           {"retry_in_ms", static_cast<std::int64_t>(wait.count())}});
    if (!sleep_for(ctx.stop, wait)) return {startup_result::stopped, r.status};
  }
}

std::string task_type_name(const v1::Task& task) {
  const auto* oneof = v1::Task::descriptor()->FindOneofByName("task_type");
  const auto* field = oneof ? task.GetReflection()->GetOneofFieldDescriptor(task, oneof) : nullptr;
  return field ? field->name() : "unset";
}

bool is_provisioning_task(const v1::Task& task) {
  switch (task.task_type_case()) {
    case v1::Task::kGrant:
    case v1::Task::kRevoke:
    case v1::Task::kCreateAccount:
    case v1::Task::kCreateResource:
    case v1::Task::kDeleteResource:
    case v1::Task::kRotateCredentials:
    case v1::Task::kIssueCredential:
      return true;
    default:
      return false;
  }
}

std::string handle_task(task_context& ctx, const v1::Task& task) {
  task_log_scope scope(task.id());
  const std::string type = task_type_name(task);
  log::info("task received", {{"type", type}});
  std::string outcome;
  if (task.has_hello()) {
    // Answered by Hello alone, never by FinishTask.
    auto r = ctx.client.hello(make_hello_request(ctx.host_id, task.id()));
    if (r.ok()) {
      outcome = "answered";
    } else {
      outcome = "error";
      log::error("Hello for a hello task failed", {{"code", rpc_code_name(r.status.code)}, {"error", r.status.message}});
    }
  } else if (task.has_sync_full()) {
    outcome = run_sync_task(ctx, task).outcome;
  } else if (is_provisioning_task(task)) {
    outcome = finish_with_error(ctx, task, rpc_code::failed_precondition, "provisioning is not enabled", true);
  } else {
    outcome = finish_with_error(ctx, task, rpc_code::unknown, "unsupported task type", false);
  }
  if (ctx.metrics) ctx.metrics->task_done(type, outcome);
  return outcome;
}

void poll_loop(task_context& ctx) {
  unsigned errors = 0;
  while (!ctx.stop.stop_requested()) {
    auto r = ctx.client.get_task(ctx.host_id);
    milliseconds wait{0};
    if (!r.ok()) {
      ++errors;
      wait = poll_error_delay(ctx.timing, errors);
      log::warn("GetTask failed; will poll again", {{"code", rpc_code_name(r.status.code)},
                                                    {"error", r.status.message},
                                                    {"consecutive_failures", errors},
                                                    {"retry_in_ms", static_cast<std::int64_t>(wait.count())}});
    } else {
      errors = 0;
      // "none" is ConductorOne's explicit "no work".
      if (r.reply.has_task() && !r.reply.task().has_none()) handle_task(ctx, r.reply.task());
      wait = poll_delay(ctx.timing, r.reply.has_next_poll() ? &r.reply.next_poll() : nullptr);
    }
    if (!sleep_for(ctx.stop, wait)) break;
  }
}

}  // namespace bp::service
