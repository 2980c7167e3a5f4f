#pragma once
// A small HTTP/1.1 server on Asio C++20 coroutines: keep-alive, pipelining, size limits and
// bounded idle/read/write timeouts. Used by the Percipio fixture server and the metrics endpoint.
//
// The server and its handler run on the executor it was given; run that executor on one thread
// (or give it a strand). stop() may be called from any thread.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "baton_percipio/httpd/request.hpp"
#include "baton_percipio/httpd/request_parser.hpp"
#include "baton_percipio/httpd/response_writer.hpp"

namespace bp::httpd {

using handler = std::function<asio::awaitable<void>(const request&, response_writer&)>;

struct server_options {
  parser_limits limits{};
  // A keep-alive connection with no request starting within this time is closed.
  std::chrono::milliseconds idle_timeout{30'000};
  // Once a request has started, each read must progress within this time.
  std::chrono::milliseconds read_timeout{30'000};
  // Each socket write of a response must complete within this time (a peer that stops reading).
  std::chrono::milliseconds write_timeout{60'000};
};

class server {
 public:
  // Binds and listens at once (port 0 picks an ephemeral port); throws std::system_error on failure.
  server(asio::any_io_executor ex, const asio::ip::tcp::endpoint& ep, handler h, server_options opts = {});
  ~server();  // stops
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  std::uint16_t port() const;
  // Stops accepting and closes every open connection. Idempotent, thread-safe.
  void stop();
  // Connections currently open (for tests).
  std::size_t open_connections() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace bp::httpd
