#pragma once
// A blocking loopback HTTP/1.1 client for tests: raw bytes out, llhttp-parsed responses in
// (chunked bodies decoded, chunk count kept, truncation reported instead of thrown).
#include <llhttp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "baton_percipio/core/ascii.hpp"

namespace bp::test {

struct raw_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool complete = false;  // the message ended properly
  bool eof = false;       // the server closed the connection
  int chunks = 0;         // chunk headers seen (0 for Content-Length bodies)
  std::size_t raw_bytes = 0;

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (bp::ascii::iequals(k, name)) return v;
    }
    return {};
  }
  bool has_header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (bp::ascii::iequals(k, name)) return true;
    }
    return false;
  }
};

class raw_client {
 public:
  explicit raw_client(std::uint16_t port, int timeout_ms = 10'000) : sock_(ctx_) {
    sock_.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(sock_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  void send(std::string_view bytes) { asio::write(sock_, asio::buffer(bytes)); }

  // Sends a GET (or other body-less method) with optional extra header lines ("Name: v\r\n").
  raw_response get(std::string_view target, std::string_view extra_headers = {},
                   std::string_view method = "GET") {
    std::string req = std::string(method) + " " + std::string(target) +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra_headers) + "\r\n";
    send(req);
    return read_response(method == "HEAD");
  }

  raw_response post(std::string_view target, std::string_view body, std::string_view extra_headers = {}) {
    std::string req = "POST " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                      std::string(extra_headers) + "Content-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    send(req);
    return read_response();
  }

  // Reads one response; stops at its end (bytes after it stay buffered for the next call).
  raw_response read_response(bool head = false) {
    raw_response r;
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
      auto* st = static_cast<parse_state*>(p->data);
      if (st->in_value || st->r->headers.empty()) st->r->headers.emplace_back();
      st->in_value = false;
      st->r->headers.back().first.append(at, n);
      return 0;
    };
    s.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
      auto* st = static_cast<parse_state*>(p->data);
      st->in_value = true;
      st->r->headers.back().second.append(at, n);
      return 0;
    };
    s.on_body = [](llhttp_t* p, const char* at, std::size_t n) {
      static_cast<parse_state*>(p->data)->r->body.append(at, n);
      return 0;
    };
    s.on_chunk_header = [](llhttp_t* p) {
      if (p->content_length > 0) ++static_cast<parse_state*>(p->data)->r->chunks;
      return 0;
    };
    s.on_message_complete = [](llhttp_t* p) {
      static_cast<parse_state*>(p->data)->r->complete = true;
      return static_cast<int>(HPE_PAUSED);
    };
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &s);
    parse_state st{&r, false};
    parser.data = &st;
    (void)head;
    auto feed = [&](std::string_view data) {
      auto err = llhttp_execute(&parser, data.data(), data.size());
      std::size_t used = data.size();
      if (err == HPE_PAUSED) used = static_cast<std::size_t>(llhttp_get_error_pos(&parser) - data.data());
      r.raw_bytes += used;
      r.status = parser.status_code;
      return std::pair{err, used};
    };
    if (!buffered_.empty()) {
      auto [err, used] = feed(buffered_);
      buffered_.erase(0, used);
      if (r.complete || (err != HPE_OK && err != HPE_PAUSED)) return r;
    }
    char buf[65536];
    for (;;) {
      std::error_code ec;
      std::size_t n = recv_some(buf, sizeof buf, ec);
      if (ec) {
        r.eof = true;
        if (llhttp_finish(&parser) == HPE_OK && parser.status_code != 0 && !r.complete) {
          // A body delimited by connection close is complete at EOF.
          r.complete = (parser.flags & (F_CONTENT_LENGTH | F_CHUNKED)) == 0 && r.status != 0 &&
                       parser.finish == HTTP_FINISH_SAFE;
        }
        return r;
      }
      auto [err, used] = feed(std::string_view(buf, n));
      if (r.complete) {
        buffered_.append(buf + used, n - used);
        return r;
      }
      if (err != HPE_OK) return r;
    }
  }

  // True when the peer closed (or reset) the connection; false on data or on the read timeout.
  bool closed_by_peer() {
    char c;
    std::error_code ec;
    std::size_t n = recv_some(&c, 1, ec);
    return n == 0 && ec && ec != std::errc::resource_unavailable_try_again;
  }

  // recv(2) directly: asio's blocking reads retry on EAGAIN and would ignore SO_RCVTIMEO.
  std::size_t recv_some(char* buf, std::size_t size, std::error_code& ec) {
    ssize_t n = ::recv(sock_.native_handle(), buf, size, 0);
    if (n > 0) return static_cast<std::size_t>(n);
    ec = n == 0 ? std::make_error_code(std::errc::connection_aborted) : std::error_code(errno, std::generic_category());
    return 0;
  }

  asio::ip::tcp::socket& socket() { return sock_; }

 private:
  struct parse_state {
    raw_response* r;
    bool in_value;
  };
  asio::io_context ctx_;
  asio::ip::tcp::socket sock_;
  std::string buffered_;
};

}  // namespace bp::test
