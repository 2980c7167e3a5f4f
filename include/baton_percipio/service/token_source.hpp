#pragma once
// The ConductorOne access token (spec c1-service-mode.md 4): a client-credentials POST with the
// signed client assertion, cached and renewed when fewer than 10 s of its lifetime remain.
// Synchronous and thread-safe: heartbeats and polls may ask from different threads; one fetch runs
// at a time and the others wait for its result.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "baton_percipio/net/proxy_config.hpp"
#include "baton_percipio/service/credentials.hpp"
#include "baton_percipio/service/error.hpp"

namespace bp::service {

struct token_options {
  endpoint api;                 // where POST /auth/v1/token goes (see api_endpoint())
  std::string ca_file;          // extra trusted CA file (PEM) on top of the system store; empty: none
  net::proxy_config proxy;      // the token request goes through it when it selects the API host
  std::string user_agent;       // empty: "baton-percipio/<version>"
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};  // the whole request (--http-timeout-seconds)
  // The process is stopping: a token request in flight is cancelled; one started afterwards (to
  // report a cancelled task) gets at most 5 s.
  std::stop_token stop;
};

// Form body of the token request: client_assertion, client_assertion_type, client_id and grant_type,
// form-urlencoded in that (sorted) order, as Go's url.Values encodes them.
std::string token_request_body(const client_id& id, std::string_view assertion);

class token_source {
 public:
  using steady_now = std::function<std::chrono::steady_clock::time_point()>;
  using wall_now = std::function<std::chrono::system_clock::time_point()>;

  // Registers nothing yet; each fetched token and each assertion are registered with
  // bp::log::add_secret as they are made. Throws std::runtime_error when opts.ca_file cannot be
  // loaded (a configuration problem found at startup). steady/wall: injectable clocks for tests
  // (renewal uses steady, the assertion's iat uses wall); empty means the real clocks.
  token_source(credentials creds, token_options opts, steady_now steady = {}, wall_now wall = {});
  ~token_source();
  token_source(const token_source&) = delete;
  token_source& operator=(const token_source&) = delete;

  // The value of the `authorization` metadata, "Bearer <access token>" (or "<token_type> <token>"
  // for a type other than bearer), from the cache or from a new token request. Failures:
  // errc::auth_failed when the endpoint answers 400, 401 or 403 (wrong or revoked credentials:
  // retrying cannot help); errc::unavailable for connection and TLS errors, timeouts, other
  // statuses (5xx, 429, ...) and replies that are not the expected JSON.
  result<std::string> authorization();

  // Forgets the cached token so the next authorization() requests a new one.
  void invalidate();

  struct counters {
    std::uint64_t requests = 0;  // token requests sent (attempted)
  };
  counters stats() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::service
