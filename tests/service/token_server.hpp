#pragma once
// A loopback HTTPS server for the token tests, running on its own thread (the token source is
// synchronous and blocks the test thread). Records every request; the test chooses the replies.
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/test_server.hpp"

namespace bp::service::test {

class token_server {
 public:
  using respond_fn = std::function<net::test::reply(const net::test::received&, std::size_t index)>;

  // silent: accept and read, but never reply (for timeouts).
  explicit token_server(respond_fn respond, bool silent = false) : respond_(std::move(respond)) {
    srv_ = std::make_unique<net::test::server>(
        io_,
        [this](const net::test::received& r) {
          std::lock_guard lk(mu_);
          seen_.push_back(r);
          return respond_(r, seen_.size() - 1);
        },
        tls_.get());
    srv_->silent = silent;
    thread_ = std::thread([this] { io_.run(); });
  }
  ~token_server() {
    asio::post(io_, [this] { srv_->stop(); });
    thread_.join();
  }
  token_server(const token_server&) = delete;
  token_server& operator=(const token_server&) = delete;

  std::uint16_t port() const { return srv_->port(); }
  const std::string& ca_file() const { return cert_.cert_file; }
  std::vector<net::test::received> seen() {
    std::lock_guard lk(mu_);
    return seen_;
  }
  std::size_t count() {
    std::lock_guard lk(mu_);
    return seen_.size();
  }

 private:
  asio::io_context io_;
  net::test::test_cert cert_{"localhost"};
  std::unique_ptr<asio::ssl::context> tls_ = net::test::server_tls_context(cert_);
  respond_fn respond_;
  std::mutex mu_;
  std::vector<net::test::received> seen_;
  std::unique_ptr<net::test::server> srv_;
  std::thread thread_;
};

inline std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// application/x-www-form-urlencoded body -> ordered key/value pairs.
inline std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view kv = body.substr(0, amp);
    auto eq = kv.find('=');
    out.emplace_back(percent_decode(kv.substr(0, eq)), eq == std::string_view::npos ? "" : percent_decode(kv.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace bp::service::test
