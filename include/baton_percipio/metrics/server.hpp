#pragma once
// The observability endpoint behind --metrics-addr, on bp::httpd:
//   GET /metrics  Prometheus text of the registry
//   GET /healthz  200 "ok" while the process runs (liveness)
//   GET /readyz   200 once a sync succeeded or a last good file exists, else 503 (readiness)
// Other paths answer 404, other methods 405.
#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "baton_percipio/httpd/server.hpp"
#include "baton_percipio/metrics/registry.hpp"

namespace bp::metrics {

// "" means all IPv4 interfaces; literal addresses are used as given, names are resolved once.
std::optional<asio::ip::tcp::endpoint> listen_endpoint(std::string_view host, std::uint16_t port,
                                                       std::error_code& ec);

class metrics_server {
 public:
  // Binds and listens at once (port 0: ephemeral); the server runs on `ex`, which should run on one
  // thread. `reg` must outlive the server. Throws std::system_error when it cannot listen.
  metrics_server(asio::any_io_executor ex, const asio::ip::tcp::endpoint& ep, const registry& reg);

  std::uint16_t port() const { return server_.port(); }
  // Stops accepting and closes open connections. Idempotent, thread-safe.
  void stop() { server_.stop(); }

 private:
  httpd::server server_;
};

// The non-throwing way in: resolves host, binds, listens. nullptr with ec set on failure
// (address in use, unknown host, permission denied).
std::unique_ptr<metrics_server> start_metrics_server(asio::any_io_executor ex, std::string_view host,
                                                     std::uint16_t port, const registry& reg,
                                                     std::error_code& ec);

}  // namespace bp::metrics
