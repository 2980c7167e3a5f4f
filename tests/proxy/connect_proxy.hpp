#pragma once
// A CONNECT proxy for tests, on 127.0.0.1 (ephemeral port), with one thread per connection so a
// test process and a child process can both use it. It can tunnel (resolving names only from its
// own table, so destinations need not exist in DNS), require Basic credentials (407 otherwise),
// refuse, answer garbage, or stall; it records every CONNECT it receives.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bp::test {

struct proxy_options {
  enum class behaviour {
    tunnel,   // 200, then relay bytes both ways
    refuse,   // answer refuse_status and close
    garbage,  // answer with bytes that are not HTTP and close
    stall,    // read the CONNECT, never answer
  };
  behaviour mode = behaviour::tunnel;
  int refuse_status = 403;
  // Non-empty user: a CONNECT without "Proxy-Authorization: Basic base64(user:password)" gets 407.
  std::string user;
  std::string password;
  // Destination host -> IP address the proxy connects to. Other names get 502; IP literals are used as given.
  std::map<std::string, std::string> hosts;
};

struct connect_record {
  std::string target;               // the CONNECT request target, "host:port"
  std::string host_header;          // its Host header
  std::string proxy_authorization;  // its Proxy-Authorization header ("" when absent)
  std::string user_agent;           // its User-Agent header ("" when absent)
  int answered = 0;                 // status the proxy answered (0: none, e.g. stall)
};

class connect_proxy {
 public:
  explicit connect_proxy(proxy_options o = {});
  ~connect_proxy();
  connect_proxy(const connect_proxy&) = delete;
  connect_proxy& operator=(const connect_proxy&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://[userinfo@]127.0.0.1:<port>"
  std::string url(std::string_view userinfo = {}) const;
  std::vector<connect_record> records() const;
  std::size_t tunnels() const { return tunnels_.load(); }  // CONNECTs answered 200
  // Closes the listener and every connection and joins all threads. Idempotent.
  void stop();

 private:
  void accept_loop();
  void serve(int fd);
  bool wait_readable(int fd) const;  // false when stopping
  int answer(int fd, const connect_record& r, std::string& upstream);

  proxy_options opts_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> tunnels_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<connect_record> records_;
};

}  // namespace bp::test
