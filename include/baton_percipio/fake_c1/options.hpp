#pragma once
// How a fake ConductorOne behaves: intervals, scripted tasks, faults and where it writes.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::fake_c1 {

// Everything off by default. Counters are over the life of the server; change them at run time
// with server::set_faults (counting continues).
struct faults {
  bool token_reject = false;  // every token request answered 401
  int token_status = 0;       // non-zero: every token request answered with this status (e.g. 500)
  std::chrono::milliseconds token_delay{0};  // the token endpoint waits this long before answering
  int get_task_unavailable = 0;  // the first N GetTask calls fail with UNAVAILABLE
  int abort_uploads = 0;         // the first N UploadAsset streams fail with UNAVAILABLE after their first data message
  int cancel_heartbeat = 0;      // the k-th Heartbeat call (1-based, over all tasks) cancels its task; 0: never
};

struct options {
  std::string address = "127.0.0.1";  // loopback only
  std::uint16_t port = 0;             // 0: an ephemeral port
  // Host part of the generated client id; empty: "<address>:<port>". Set a realistic tenant host
  // ("tenant.conductor.one") and point the client at the fake with BATON_C1_API_HOST instead.
  std::string client_host;
  std::string client_name = "baton-percipio";

  std::chrono::milliseconds next_poll{200};        // every GetTask reply carries it
  std::chrono::milliseconds next_heartbeat{1000};  // every Heartbeat reply (and GetTask reply) carries it
  std::chrono::seconds token_lifetime{3600};       // expires_in of issued tokens
  bool requeue_retryable = false;  // a FinishTask error without non_retryable puts the task back in the queue

  std::vector<c1::connectorapi::baton::v1::Task> tasks;  // handed out in order by GetTask
  faults fault;

  std::filesystem::path ca_out;      // the CA certificate (PEM) is written here when set
  std::filesystem::path upload_dir;  // uploads are written here as <task id>.<sequence>.<c1z|bin> when set
  std::filesystem::path log_path;    // JSON-lines call log when set (appended)
  bool keep_upload_bytes = true;     // keep each stored upload's bytes in its upload_record
  std::uint64_t max_upload_bytes = std::uint64_t{4} << 30;  // larger uploads fail with RESOURCE_EXHAUSTED

  // Wall clock for token times (assertion window, token expiry). Tests inject one to expire tokens
  // without waiting.
  std::function<std::chrono::system_clock::time_point()> clock;
};

}  // namespace bp::fake_c1
