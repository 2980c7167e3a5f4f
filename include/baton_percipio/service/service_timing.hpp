#pragma once
// The intervals of service mode (spec c1-service-mode.md 7, 10, 12) and the waits derived from
// them. Every interval is a setting so tests run the protocol at millisecond pace.
#include <chrono>
#include <stop_token>

#include <google/protobuf/duration.pb.h>

namespace bp::service {

using std::chrono::milliseconds;

struct service_timing {
  // Startup Hello: retried after transient failures, first wait doubling up to the cap.
  milliseconds hello_backoff_first{std::chrono::seconds(1)};
  milliseconds hello_backoff_cap{std::chrono::minutes(5)};
  // Pause between polls: the server's next_poll clamped to [poll_floor, poll_cap]. The SDK has no
  // floor; a small one keeps a server that sends 0 from making us spin.
  milliseconds poll_floor{100};
  milliseconds poll_cap{std::chrono::minutes(5)};
  // After the n-th consecutive GetTask failure: n * n * poll_error_unit, at most poll_error_cap.
  milliseconds poll_error_unit{std::chrono::seconds(1)};
  milliseconds poll_error_cap{std::chrono::seconds(60)};
  // Heartbeats of a sync task: the last reply's next_heartbeat; unset or zero means
  // heartbeat_default; clamped to [heartbeat_floor, heartbeat_cap].
  milliseconds heartbeat_default{std::chrono::seconds(30)};
  milliseconds heartbeat_floor{std::chrono::seconds(1)};
  milliseconds heartbeat_cap{std::chrono::minutes(5)};
  int heartbeat_failure_limit = 9;  // consecutive failures that abort the task
  // FinishTask of a task cut short by SIGTERM: a short deadline, so the process still exits within
  // seconds when ConductorOne does not answer (otherwise FinishTask has the client's 30 s).
  milliseconds shutdown_finish_timeout{std::chrono::seconds(5)};
};

// Wait before the Hello retry that follows the `failures`-th consecutive failure (1 = first).
milliseconds hello_backoff(const service_timing& t, unsigned failures);
// Wait after a successful poll; `next_poll` may be null (the reply had none).
milliseconds poll_delay(const service_timing& t, const google::protobuf::Duration* next_poll);
// Wait after the `errors`-th consecutive failed poll (1 = first).
milliseconds poll_error_delay(const service_timing& t, unsigned errors);
// Heartbeat interval from a reply's next_heartbeat (null: no reply).
milliseconds heartbeat_interval(const service_timing& t, const google::protobuf::Duration* next_heartbeat);

// Waits `d` unless `stop` is requested first; false when stopped (also when it already was).
bool sleep_for(std::stop_token stop, milliseconds d);

}  // namespace bp::service
