#pragma once
// A thin synchronous client for c1.connectorapi.baton.v1.BatonService (spec c1-service-mode.md 5,
// 6, 11): one long-lived TLS channel, `authorization` metadata from the token source and a
// deadline on every call, statuses returned as values. Thread-safe (heartbeats and polls may run
// on different threads).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/net/proxy_config.hpp"
#include "baton_percipio/service/credentials.hpp"
#include "baton_percipio/service/token_source.hpp"
#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::service {

// gRPC status codes used by callers (numbers as in grpc::StatusCode / google.rpc.Code).
namespace rpc_code {
inline constexpr int ok = 0;
inline constexpr int cancelled = 1;
inline constexpr int unknown = 2;
inline constexpr int invalid_argument = 3;
inline constexpr int deadline_exceeded = 4;
inline constexpr int not_found = 5;
inline constexpr int permission_denied = 7;
inline constexpr int failed_precondition = 9;
inline constexpr int unimplemented = 12;
inline constexpr int internal = 13;
inline constexpr int unavailable = 14;
inline constexpr int unauthenticated = 16;
}  // namespace rpc_code

// "UNAVAILABLE" for 14 and so on; "CODE_OTHER" for numbers outside 0..16.
std::string_view rpc_code_name(int code);

// A call's outcome. A token failure never reaches the server and is reported here as
// UNAUTHENTICATED (the endpoint refused the credentials) or UNAVAILABLE (it could not be reached or
// answered oddly), with the token source's message.
struct rpc_status {
  int code = rpc_code::ok;
  std::string message;
  bool ok() const noexcept { return code == rpc_code::ok; }
};

template <class Reply>
struct rpc_reply {
  rpc_status status;
  Reply reply;  // meaningful only when status.ok()
  bool ok() const noexcept { return status.ok(); }
};

struct baton_client_options {
  endpoint target;          // gRPC target (api_endpoint()): "host:port" over TLS
  std::string client_name;  // from the client id; user agent "<name> baton-percipio/<version>"
  // Extra trusted CA file (PEM), e.g. SSL_CERT_FILE's value. When set, the channel trusts the
  // concatenation of system_roots_file (if it exists) and this file; a missing or unreadable file
  // makes the constructor throw. When empty, system_roots_file alone (or gRPC's default roots when
  // it does not exist).
  std::string ca_file;
  std::string system_roots_file = "/etc/ssl/certs/ca-certificates.crt";
  // The channel goes through the proxy this selects for https://target (a CONNECT tunnel made by
  // gRPC), and connects directly otherwise: gRPC's own reading of the proxy variables is turned off.
  net::proxy_config proxy;
  std::chrono::milliseconds call_timeout{std::chrono::seconds(30)};     // each unary call
  std::chrono::milliseconds upload_timeout{std::chrono::minutes(30)};   // each UploadAsset attempt
  std::size_t upload_chunk_bytes = 524288;                              // 512 KiB, as the SDK sends
  // Waits before the 2nd, 3rd, ... upload attempt (so 3 attempts by default, from byte 0 each).
  std::vector<std::chrono::milliseconds> upload_retry_waits{std::chrono::milliseconds(0), std::chrono::seconds(1)};
  // How to wait between upload attempts; returns false to give up (e.g. the task was cancelled).
  // Empty: sleep. Tests inject one that records the waits.
  std::function<bool(std::chrono::milliseconds)> wait;
  // The process is stopping: every call in flight is cancelled (CANCELLED), later ones fail at once.
  // The client that reports a cancelled task while stopping has none.
  std::stop_token stop;
};

struct upload_result {
  rpc_status status;
  int attempts = 0;           // streams opened
  std::uint64_t bytes = 0;    // file size
  std::string sha256;         // 32 raw bytes sent in eof (empty if the file could not be read)
};

class baton_client {
 public:
  // `tokens` must outlive the client. Throws std::runtime_error when the CA file cannot be read.
  baton_client(token_source& tokens, baton_client_options opts);
  ~baton_client();
  baton_client(const baton_client&) = delete;
  baton_client& operator=(const baton_client&) = delete;

  rpc_reply<c1::connectorapi::baton::v1::BatonServiceHelloResponse> hello(
      const c1::connectorapi::baton::v1::BatonServiceHelloRequest& req);
  rpc_reply<c1::connectorapi::baton::v1::BatonServiceGetTaskResponse> get_task(std::string_view host_id);
  // `stop` cancels the heartbeat in flight (the task is ending: its answer no longer matters).
  rpc_reply<c1::connectorapi::baton::v1::BatonServiceHeartbeatResponse> heartbeat(std::string_view host_id,
                                                                                  std::string_view task_id,
                                                                                  std::stop_token stop = {});
  rpc_reply<c1::connectorapi::baton::v1::BatonServiceFinishTaskResponse> finish_task(
      const c1::connectorapi::baton::v1::BatonServiceFinishTaskRequest& req);
  // FinishTask with `success` and nothing else (what the SDK sends after an upload).
  rpc_reply<c1::connectorapi::baton::v1::BatonServiceFinishTaskResponse> finish_success(std::string_view host_id,
                                                                                        std::string_view task_id);
  // FinishTask with `error` {non_retryable} and status {code, message}.
  rpc_reply<c1::connectorapi::baton::v1::BatonServiceFinishTaskResponse> finish_error(std::string_view host_id,
                                                                                      std::string_view task_id,
                                                                                      const rpc_status& status,
                                                                                      bool non_retryable);

  // UploadAsset: metadata {host_id, task_id}, the file in upload_chunk_bytes data messages (the
  // remainder last; none for an empty file), eof with the file's SHA-256. The checksum is computed
  // once; each attempt opens a new stream and reads the file from byte 0. `cancelled` (optional) is
  // checked before each message and before each retry; when it returns true the stream is
  // cancelled and the result is CANCELLED. A file that cannot be read, or changes size while it is
  // sent, fails at once with UNKNOWN (retrying would not help).
  upload_result upload_asset(const std::filesystem::path& file, std::string_view task_id, std::string_view host_id,
                             const std::function<bool()>& cancelled = {});

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::service
