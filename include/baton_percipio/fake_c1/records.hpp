#pragma once
// What the fake saw, as tests read it back. Times are steady-clock points taken when the call
// arrived (good for intervals); the JSON-lines log carries wall-clock times. No record holds a
// token, an assertion or a secret.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::fake_c1 {

using time_point = std::chrono::steady_clock::time_point;

struct token_request_record {
  time_point at;
  std::string client_id;     // as sent (may be unknown)
  int status = 0;            // HTTP status answered
  std::string reason;        // why it was refused; empty when accepted
  std::int64_t expires_in = 0;  // when accepted
};

// A TLS connection accepted by the front and where it was routed.
struct connection_record {
  time_point at;
  std::string alpn;     // negotiated protocol, "" when none
  std::string backend;  // "token" or "grpc"; "" when the handshake or routing failed
};

struct hello_record {
  time_point at;
  int code = 0;  // gRPC status code answered
  c1::connectorapi::baton::v1::BatonServiceHelloRequest request;
};

struct poll_record {
  time_point at;
  int code = 0;
  std::string host_id;
  std::string task_id;    // empty when no task was handed out
  std::string task_type;  // task_type_name(), empty when no task
};

struct heartbeat_record {
  time_point at;
  int code = 0;
  std::string host_id;
  std::string task_id;
  bool cancelled = false;  // what the reply said
};

struct upload_record {
  time_point at;     // when the stream opened
  int code = 0;      // gRPC status code answered (0: stored)
  std::string error;  // the status message on failure
  std::string host_id;
  std::string task_id;
  int sequence = -1;           // 0 for a task's first stored upload, 1 for the next ...; -1 if not stored
  std::size_t data_messages = 0;
  std::uint64_t bytes = 0;
  bool sha_ok = false;         // eof digest matched the bytes received
  std::string magic;           // "C1ZF", "C1Z3" or "" (not a c1z)
  std::string data;            // the bytes, when options.keep_upload_bytes
  std::filesystem::path file;  // where it was written, when options.upload_dir is set
};

struct finish_record {
  time_point at;
  int code = 0;  // gRPC status code answered
  std::string host_id;
  std::string task_id;
  bool known_task = false;  // the id was handed out by GetTask
  bool success = false;     // final_state is success
  bool error = false;       // final_state is error
  bool has_status = false;
  int status_code = 0;
  std::string status_message;
  bool non_retryable = false;
  std::string response_type_url;  // success/error `response` Any, if any
};

struct call_counts {
  std::size_t connections = 0;
  std::size_t token_requests = 0;
  std::size_t tokens_issued = 0;
  std::size_t hellos = 0;
  std::size_t polls = 0;
  std::size_t heartbeats = 0;
  std::size_t upload_streams = 0;
  std::size_t uploads_stored = 0;
  std::size_t finishes = 0;
  std::size_t tasks_done = 0;  // FinishTask calls for handed-out tasks plus Hello calls answering hello tasks
};

}  // namespace bp::fake_c1
