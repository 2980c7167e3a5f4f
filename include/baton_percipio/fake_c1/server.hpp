#pragma once
// A fake ConductorOne for tests and demos (c1-service-mode.md section 15): the OAuth token endpoint
// (POST /auth/v1/token) and gRPC c1.connectorapi.baton.v1.BatonService on one TLS host:port on
// loopback. A TLS front routes each connection by ALPN (server preference: http/1.1, then h2; no
// ALPN: by its first bytes, the HTTP/2 preface going to gRPC) and pipes the plaintext to an
// in-process HTTP/1.1 token handler or gRPC server on other loopback ports. A throw-away CA and
// server certificate (SAN localhost, c1.test and 127.0.0.1;
// tests reach c1.test through a proxy) are generated at start.
//
// Thread-safe: the server runs on its own threads; every accessor may be called from any thread.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/fake_c1/credentials.hpp"
#include "baton_percipio/fake_c1/options.hpp"
#include "baton_percipio/fake_c1/records.hpp"
#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::fake_c1 {

class server {
 public:
  // Generates the certificates and one client credential pair, starts listening. Throws
  // std::runtime_error / std::system_error when it cannot.
  explicit server(options opts = {});
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  std::uint16_t port() const;
  std::string address() const;  // "127.0.0.1:<port>": BATON_C1_API_HOST, or the gRPC target
  const std::string& ca_pem() const;
  const std::filesystem::path& ca_file() const;  // options.ca_out ("" when not written)
  // The credentials generated at start (host: options.client_host or address()).
  const client_credentials& credentials() const;
  // Accepts token requests from another client too.
  void register_client(const client_credentials& c);

  // Appends a task to the queue GetTask serves from; returns its id.
  std::string add_task(c1::connectorapi::baton::v1::Task task);
  void set_faults(const faults& f);
  // A valid access token without a token request (tests that exercise only the gRPC side).
  std::string issue_token(std::chrono::seconds lifetime);

  std::vector<connection_record> connections() const;
  std::vector<token_request_record> token_requests() const;
  std::vector<hello_record> hellos() const;
  std::vector<poll_record> polls() const;
  std::vector<heartbeat_record> heartbeats() const;
  std::vector<upload_record> uploads() const;  // every stream, stored or not
  std::vector<finish_record> finishes() const;
  call_counts counts() const;

  // Blocks until `pred(counts())` holds (re-checked after every recorded event) or `timeout` passes.
  bool wait_for(const std::function<bool(const call_counts&)>& pred, std::chrono::milliseconds timeout) const;
  // wait_for(tasks_done >= n).
  bool wait_until_finished(std::size_t n, std::chrono::milliseconds timeout) const;

  // Stops accepting, closes connections, shuts the gRPC server down. Idempotent.
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::fake_c1
