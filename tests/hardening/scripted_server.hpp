#pragma once
// A scripted loopback HTTP server for fault tests: one request per connection, answered by a test
// function that writes whatever bytes it likes (or never answers). Plain POSIX sockets and one
// thread per connection, so a handler can block (hang, stream forever) without stalling others.
// Optional TLS with a test certificate. Listens on 127.0.0.1, ephemeral port.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bp::hardening {

struct http_request {
  std::string method;
  std::string target;
  std::string head;  // request line and headers, as received
  std::string body;
};

// The client side of one accepted connection, as seen by a handler.
class connection {
 public:
  virtual ~connection() = default;
  // False once the peer is gone or the server is stopping.
  virtual bool write(std::string_view bytes) = 0;
  // Blocks until the peer closes the connection or the server stops (reads and discards input).
  virtual void hang() = 0;
  virtual bool stopping() const = 0;
};

// index: 0-based request number over the server's life.
using handler = std::function<void(std::size_t index, const http_request& req, connection& c)>;

// A certificate and key in PEM, made with OpenSSL for the given DNS name (and 127.0.0.1).
struct test_cert {
  std::string cert_pem;
  std::string key_pem;
  // Subject alternative names: DNS:dns_name, plus IP:ip when ip is not empty. valid_days < 0 gives
  // a certificate that expired that many days ago.
  static test_cert make(const std::string& dns_name, const std::string& ip = "127.0.0.1", int valid_days = 30);
  // Writes cert_pem to a file (for a client's ca_file); returns the path.
  std::string write_cert(const std::string& dir) const;
};

class scripted_server {
 public:
  explicit scripted_server(handler h, const test_cert* tls = nullptr);
  ~scripted_server();
  scripted_server(const scripted_server&) = delete;
  scripted_server& operator=(const scripted_server&) = delete;

  std::uint16_t port() const { return port_; }
  std::string base_url(std::string_view host = "127.0.0.1") const;
  std::size_t requests() const { return requests_.load(); }
  // Stops accepting, unblocks every handler (writes fail, hang() returns) and joins all threads.
  void stop();

  struct tls_state;

 private:
  void accept_loop();
  void serve(int fd, std::size_t conn_index);

  handler handler_;
  std::unique_ptr<tls_state> tls_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> requests_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::size_t active_ = 0;  // detached connection threads still running
  std::vector<int> open_fds_;
};

// A response with Content-Length and Connection: close.
std::string response(int status, std::string_view body, std::string_view extra_headers = {});

// Sends req to 127.0.0.1:port (plain HTTP, without Accept-Encoding, with Connection: close) and
// returns the complete raw response, its head rewritten to carry "Connection: close".
// Empty on failure.
std::string forward(std::uint16_t port, const http_request& req);

// Byte offset of the body in a raw response (after the blank line); npos when incomplete.
std::size_t body_offset(std::string_view raw);

}  // namespace bp::hardening
