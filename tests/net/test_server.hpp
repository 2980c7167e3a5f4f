#pragma once
// A scripted loopback HTTP/1.1 server for the net tests. Plain TCP (optionally TLS) on
// 127.0.0.1:0, running on the test's io_context; it parses requests just enough (head + body by
// Content-Length) and answers with bytes the test chooses, so malformed and truncated
// responses are easy to produce. Counts connections and requests.
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "baton_percipio/net/http.hpp"

namespace bp::net::test {

struct received {
  std::string method;
  std::string target;
  std::vector<header> headers;
  std::string body;
  std::string head;  // raw request head as received
  std::size_t connection = 0;  // 0-based connection index
  std::size_t index_on_connection = 0;
  std::size_t index = 0;       // 0-based request index over the whole server
};

struct reply {
  std::vector<std::string> pieces;  // written in order, one write each
  bool close_after = false;         // close once written
  bool hang = false;                // after writing, read and discard until the client closes
};

// Convenience replies.
reply ok(std::string body, std::vector<std::string> extra_headers = {});
reply status(int code, std::string body = {}, std::vector<std::string> extra_headers = {});
reply raw(std::string bytes, bool close_after = false);

using handler = std::function<reply(const received&)>;

class server {
 public:
  // tls: serve TLS with this context (not owned), else plain TCP.
  server(asio::io_context& io, handler h, asio::ssl::context* tls = nullptr);
  ~server();
  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><target>" (https with TLS); host overrides 127.0.0.1.
  std::string url(std::string_view target = "/", std::string_view host = "127.0.0.1") const;
  std::size_t connections() const { return connections_; }
  std::size_t requests() const { return requests_; }
  std::vector<received>& log() { return log_; }
  // Stops accepting and closes every connection so io_context::run() can return.
  void stop();
  // Accept connections but never read or answer (for timeout tests).
  bool silent = false;

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(std::shared_ptr<asio::ssl::stream<asio::ip::tcp::socket>> s, std::size_t conn);
  asio::io_context& io_;
  handler handler_;
  asio::ssl::context* tls_;
  asio::ssl::context plain_ctx_{asio::ssl::context::tls_server};  // unused SSL layer of plain sessions
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::size_t connections_ = 0;
  std::size_t requests_ = 0;
  std::vector<received> log_;
  std::list<std::weak_ptr<asio::ssl::stream<asio::ip::tcp::socket>>> sockets_;
  bool stopped_ = false;
};

// Runs body on io until it finishes (then calls on_done, e.g. to stop servers, and drains io).
// Rethrows the coroutine's exception. Fails the test if it does not finish within 15 s.
void run(asio::io_context& io, std::function<asio::awaitable<void>()> body, std::function<void()> on_done = {});

// A self-signed certificate for DNS name `host` and its key, for TLS tests.
struct test_cert {
  std::string cert_pem;
  std::string key_pem;
  std::string cert_file;  // cert_pem written to a temp file (removed by the destructor)
  explicit test_cert(const std::string& host);
  ~test_cert();
  test_cert(const test_cert&) = delete;
  test_cert& operator=(const test_cert&) = delete;
};

// A server TLS context using cert.
std::unique_ptr<asio::ssl::context> server_tls_context(const test_cert& cert);

}  // namespace bp::net::test
