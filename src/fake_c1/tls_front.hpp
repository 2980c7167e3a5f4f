#pragma once
// The fake's one public port: terminates TLS and pipes each connection's plaintext to a loopback
// backend. Routing: ALPN by server preference (http/1.1, then h2); "http/1.1" goes to the token
// handler, "h2" to gRPC. A client without ALPN is routed by its first bytes: the HTTP/2 client
// preface ("PRI * HTTP/2.0") to gRPC, anything else to the token handler.
#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "certs.hpp"

namespace bp::fake_c1::detail {

class tls_front {
 public:
  // Called once per accepted connection: negotiated ALPN ("" for none) and backend ("token",
  // "grpc", or "" when the handshake or routing failed).
  using route_callback = std::function<void(const std::string& alpn, const std::string& backend)>;

  // Binds and listens at once; throws std::system_error on failure. Run `ex` on one thread.
  tls_front(asio::any_io_executor ex, const tls_material& tls, const asio::ip::tcp::endpoint& listen,
            asio::ip::tcp::endpoint token_backend, asio::ip::tcp::endpoint grpc_backend, route_callback on_route);
  ~tls_front();
  tls_front(const tls_front&) = delete;
  tls_front& operator=(const tls_front&) = delete;

  std::uint16_t port() const;
  // Stops accepting and closes every connection. Idempotent, thread-safe.
  void stop();

  struct state;

 private:
  std::shared_ptr<state> st_;
};

}  // namespace bp::fake_c1::detail
