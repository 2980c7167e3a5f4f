#pragma once
// Service mode from settings to the end of the process: credentials, token source, gRPC channel,
// the startup Hello and the task loop (spec c1-service-mode.md 2, 7). The CLI maps the result to
// an exit status.
#include <chrono>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>

#include "baton_percipio/metrics/registry.hpp"
#include "baton_percipio/service/baton_client.hpp"
#include "baton_percipio/service/task_context.hpp"

namespace bp::service {

struct service_settings {
  std::string client_id;                    // --client-id / BATON_CLIENT_ID
  std::string client_secret;                // --client-secret / BATON_CLIENT_SECRET; registered as a secret
  std::string api_host_override;            // BATON_C1_API_HOST: "host" or "host:port"
  std::optional<std::string> host_id;       // BATON_HOST_ID; unset or empty: the host name
  std::string ca_file;                      // SSL_CERT_FILE: trusted for ConductorOne besides the system store
  net::proxy_config proxy;                  // for the token request and the gRPC channel (sync.base.http has its own)
  std::chrono::milliseconds token_timeout{std::chrono::seconds(300)};
  sync_settings sync;                       // the Percipio side and where files wait for upload
  service_timing timing;
  // Client tuning (deadlines, upload retry waits). target, client_name and ca_file are filled in.
  baton_client_options client;
};

enum class service_exit {
  stopped,       // asked to stop: exit 0
  config_error,  // a malformed client id / secret / BATON_C1_API_HOST, an unreadable CA file: exit 2
  auth_failed,   // ConductorOne refused the credentials: exit 3
  rejected,      // the startup Hello was refused for another permanent reason: exit 1
};

struct service_result {
  service_exit exit = service_exit::stopped;
  std::string message;  // one line for the operator, without secrets; empty when stopped
};

// Runs until `stop` is requested or the startup fails. `metrics` (optional) gets the service
// counters and the readiness (Hello succeeded).
service_result run_service(const service_settings& settings, std::stop_token stop, metrics::registry* metrics);

}  // namespace bp::service
