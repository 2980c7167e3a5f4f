#pragma once
// HTTP/1.1 client on Asio C++20 coroutines: TLS with peer and host-name verification, gzip,
// a keep-alive pool with a per-host cap, CONNECT tunnels through an http:// proxy, and a bound on
// every step (the proxy leg included). Not thread-safe: use one
// client from one thread (or one strand), as the sync does with its single network thread.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/net/error.hpp"
#include "baton_percipio/net/http.hpp"
#include "baton_percipio/net/proxy_config.hpp"

namespace bp::net {

struct timeouts {
  std::chrono::milliseconds connect{10000};        // resolve + TCP connect
  std::chrono::milliseconds tls_handshake{10000};
  std::chrono::milliseconds write{30000};          // whole request write
  std::chrono::milliseconds first_byte{60000};     // request written -> first response byte
  std::chrono::milliseconds idle_read{60000};      // between two reads of one response
};

struct client_options {
  timeouts t;
  std::size_t max_connections_per_host = 8;
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 256u << 20;  // buffered responses only; decoded size
  bool verify_peer = true;                  // false only for local experiments
  std::string ca_file;                      // extra trusted CA file (PEM), added to the system store
  bool accept_gzip = true;
  std::string user_agent = "baton-percipio";
  // https destinations it selects are reached through a CONNECT tunnel (the destination name is
  // then resolved by the proxy, and TLS is verified against it). Plain http goes only to loopback
  // hosts, which are never proxied. Default: no proxy. Credentials are registered as log secrets.
  proxy_config proxy;
};

class client {
 public:
  // Throws std::runtime_error on fatal TLS setup problems (unreadable ca_file).
  client(asio::any_io_executor ex, client_options opts);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Buffered response body (bounded by max_body_bytes). Errors: bp::net::errc values (or a
  // system error for odd socket failures); an HTTP error status is not an error here.
  asio::awaitable<std::pair<std::error_code, response>> async_request(request req, bp::deadline d);
  // Streaming body: sink receives decoded chunks as they arrive; response.body stays empty.
  // No max_body_bytes limit applies.
  asio::awaitable<std::pair<std::error_code, response>> async_request(request req, bp::deadline d,
                                                                      body_sink sink);
  // Streaming with flow control: `gate` is awaited before each further read (see read_gate).
  asio::awaitable<std::pair<std::error_code, response>> async_request(request req, bp::deadline d,
                                                                      body_sink sink, read_gate gate);

  void close_idle();  // drop pooled connections

  struct counters {
    std::uint64_t requests = 0;
    std::uint64_t bytes_received = 0;  // raw bytes read from sockets (headers + encoded body)
    std::uint64_t connections_opened = 0;
  };
  counters stats() const;

  const client_options& options() const;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace bp::net
