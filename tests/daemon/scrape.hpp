#pragma once
// A blocking HTTP/1.1 client for the metrics endpoint over loopback: one request per connection.
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bp::daemon_test {

struct reply {
  int status = 0;  // 0: no answer (connection refused or cut)
  std::string body;
};

inline reply fetch(std::uint16_t port, std::string_view path) {
  asio::io_context ctx;
  asio::ip::tcp::socket sock(ctx);
  std::error_code ec;
  sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {};
  std::string req = "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(sock, asio::buffer(req), ec);
  if (ec) return {};
  std::string raw;
  asio::read(sock, asio::dynamic_buffer(raw), ec);
  auto end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || end == std::string::npos) return {};
  return {std::stoi(raw.substr(9, 3)), raw.substr(end + 4)};
}

// The value of one sample line ("name" or "name{labels}") of a Prometheus text body.
inline std::optional<double> sample(const std::string& body, std::string_view name) {
  const std::string key = std::string(name) + " ";
  for (std::size_t pos = 0; pos < body.size();) {
    auto eol = body.find('\n', pos);
    if (eol == std::string::npos) eol = body.size();
    std::string_view line(body.data() + pos, eol - pos);
    if (line.starts_with(key)) return std::stod(std::string(line.substr(key.size())));
    pos = eol + 1;
  }
  return std::nullopt;
}

}  // namespace bp::daemon_test
