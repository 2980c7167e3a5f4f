#include "baton_percipio/metrics/server.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <string>

namespace bp::metrics {
namespace {

// Built outside coroutines: GCC 12 mis-compiles braced string literals inside co_await expressions.
httpd::header_list metrics_headers() { return {{"Content-Type", std::string(text_content_type)}}; }
httpd::header_list plain_headers() { return {{"Content-Type", "text/plain; charset=utf-8"}}; }
httpd::header_list not_allowed_headers() {
  return {{"Content-Type", "text/plain; charset=utf-8"}, {"Allow", "GET"}};
}

asio::awaitable<void> handle(const registry& reg, const httpd::request& req, httpd::response_writer& w) {
  const bool known = req.path == "/metrics" || req.path == "/healthz" || req.path == "/readyz";
  if (!known) {
    co_await w.async_send(404, plain_headers(), "not found\n");
    co_return;
  }
  if (req.method != "GET") {
    co_await w.async_send(405, not_allowed_headers(), "method not allowed\n");
    co_return;
  }
  if (req.path == "/metrics") {
    std::string body = reg.render();
    co_await w.async_send(200, metrics_headers(), body);
  } else if (req.path == "/healthz") {
    co_await w.async_send(200, plain_headers(), "ok");
  } else {
    const snapshot s = reg.snap();
    if (s.ready()) {
      co_await w.async_send(200, plain_headers(), "ready");
    } else if (s.service.enabled) {
      co_await w.async_send(503, plain_headers(), "not ready: not connected to ConductorOne yet");
    } else {
      co_await w.async_send(503, plain_headers(), "not ready: no successful sync and no previous file");
    }
  }
}

}  // namespace

std::optional<asio::ip::tcp::endpoint> listen_endpoint(std::string_view host, std::uint16_t port,
                                                       std::error_code& ec) {
  ec.clear();
  if (host.empty()) return asio::ip::tcp::endpoint(asio::ip::address_v4::any(), port);
  auto addr = asio::ip::make_address(std::string(host), ec);
  if (!ec) return asio::ip::tcp::endpoint(addr, port);
  // A host name ("localhost", a pod name): resolve once, take the first address.
  asio::io_context ctx;
  asio::ip::tcp::resolver resolver(ctx);
  auto results = resolver.resolve(std::string(host), std::to_string(port),
                                  asio::ip::resolver_base::numeric_service, ec);
  if (ec) return std::nullopt;
  if (results.empty()) {
    ec = asio::error::host_not_found;
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

metrics_server::metrics_server(asio::any_io_executor ex, const asio::ip::tcp::endpoint& ep, const registry& reg)
    : server_(std::move(ex), ep, [&reg](const httpd::request& req, httpd::response_writer& w) {
        return handle(reg, req, w);
      }) {}

std::unique_ptr<metrics_server> start_metrics_server(asio::any_io_executor ex, std::string_view host,
                                                     std::uint16_t port, const registry& reg,
                                                     std::error_code& ec) {
  auto ep = listen_endpoint(host, port, ec);
  if (!ep) return nullptr;
  try {
    return std::make_unique<metrics_server>(std::move(ex), *ep, reg);
  } catch (const std::system_error& e) {
    ec = e.code();
    return nullptr;
  }
}

}  // namespace bp::metrics
