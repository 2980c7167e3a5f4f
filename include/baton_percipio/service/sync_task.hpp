#pragma once
// The sync_full task (spec c1-service-mode.md 9, 10): one heartbeat before starting, heartbeats
// while the sync runs, the sync into a private temporary directory, the upload, one FinishTask.
//
// Every task gets exactly one FinishTask. Where the SDK stays silent (the first heartbeat fails or
// says cancelled), we answer with an error too — UNAVAILABLE or CANCELLED, retryable — so
// ConductorOne can re-queue the task at once instead of waiting for it to time out.
#include <string>

#include "baton_percipio/service/task_context.hpp"
#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::service {

// What the task was answered with.
struct task_answer {
  rpc_status status;           // OK: FinishTask success
  bool non_retryable = false;  // with an error status
  bool finish_sent = false;    // FinishTask was accepted by the server
  std::string outcome;         // metrics label: "success", "error" or "cancelled"
};

// The FinishTask error for a failed sync, without secrets: the code says what kind of failure it
// was, the message what failed ("Percipio rejected the API token: ...").
task_answer answer_for_sync_failure(sync::failure_kind kind, const std::string& message);

// Runs the task to its FinishTask; never throws for expected failures.
task_answer run_sync_task(task_context& ctx, const c1::connectorapi::baton::v1::Task& task);

}  // namespace bp::service
