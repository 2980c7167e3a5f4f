#pragma once
// The service-mode main loop (spec c1-service-mode.md 7, 8): the startup Hello, then GetTask polls
// with one task handled at a time, until the process is asked to stop. A poll error never ends the
// loop; only the startup Hello can end the process (credentials refused, request rejected).
#include <string>
#include <string_view>

#include "baton_percipio/service/sync_task.hpp"
#include "baton_percipio/service/task_context.hpp"
#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::service {

enum class startup_result {
  connected,     // Hello succeeded
  stopped,       // the process was asked to stop while retrying
  auth_failed,   // UNAUTHENTICATED / PERMISSION_DENIED (also a refused token request)
  rejected,      // INVALID_ARGUMENT, UNIMPLEMENTED, FAILED_PRECONDITION, NOT_FOUND: retrying cannot help
};

struct startup_outcome {
  startup_result result = startup_result::stopped;
  rpc_status status;  // the last failure
};

// Hello with an empty task id, retried after transient failures (timing.hello_backoff_*).
startup_outcome startup_hello(task_context& ctx);

// The task's type name as the protocol spells the oneof member ("sync_full", "grant", ...);
// "unset" when no member (or one this build does not know) is set.
std::string task_type_name(const c1::connectorapi::baton::v1::Task& task);

// grant, revoke, create_account, create_resource, delete_resource, rotate_credentials,
// issue_credential: refused with FAILED_PRECONDITION "provisioning is not enabled", non-retryable.
bool is_provisioning_task(const c1::connectorapi::baton::v1::Task& task);

// Answers one task: hello -> Hello with its id; sync_full -> run_sync_task; provisioning ->
// FinishTask FAILED_PRECONDITION; anything else -> FinishTask UNKNOWN "unsupported task type".
// Returns the outcome label counted in the metrics ("success", "error", "cancelled", "answered").
std::string handle_task(task_context& ctx, const c1::connectorapi::baton::v1::Task& task);

// Polls and handles tasks until ctx.stop is requested.
void poll_loop(task_context& ctx);

}  // namespace bp::service
