#include "baton_percipio/httpd/response_writer.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/buffer.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <array>
#include <chrono>
#include <fmt/format.h>

#include "baton_percipio/core/time_format.hpp"

namespace bp::httpd {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

std::string_view status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

response_writer::response_writer(asio::ip::tcp::socket& sock, bool keep_alive,
                                 std::function<void()> on_write)
    : sock_(sock), on_write_(std::move(on_write)), keep_alive_(keep_alive) {}

std::string response_writer::head(int status, const header_list& headers,
                                  std::optional<std::uint64_t> length, bool chunked) const {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, status_text(status));
  for (const auto* list : {&headers, &extra_}) {
    for (const auto& h : *list) {
      out += h.name;
      out += ": ";
      out += h.value;
      out += "\r\n";
    }
  }
  if (!http::find_header(headers, "date"))
    out += "Date: " + time_format::http_date(std::chrono::system_clock::now()) + "\r\n";
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (length) {
    out += fmt::format("Content-Length: {}\r\n", *length);
  }
  out += keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  return out;
}

void response_writer::abort() {
  if (aborted_) return;
  aborted_ = true;
  keep_alive_ = false;
  std::error_code ec;
  sock_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  sock_.close(ec);
}

asio::awaitable<bool> response_writer::async_write_buffers(std::string_view a, std::string_view b,
                                                           std::string_view c) {
  if (aborted_ || !sock_.is_open()) co_return false;
  std::array<std::string_view, 3> parts{a, b, c};
  // Fault injection: cut the parts so that exactly close_after_ bytes go out, then close.
  bool cut = false;
  std::uint64_t room = close_after_ > bytes_written_ ? close_after_ - bytes_written_ : 0;
  for (auto& p : parts) {
    if (p.size() > room) {
      p = p.substr(0, static_cast<std::size_t>(room));
      cut = true;
    }
    room -= p.size();
  }
  std::array<asio::const_buffer, 3> bufs{asio::buffer(parts[0]), asio::buffer(parts[1]),
                                         asio::buffer(parts[2])};
  if (on_write_) on_write_();
  auto [ec, n] = co_await asio::async_write(sock_, bufs, use_tuple);
  bytes_written_ += n;
  if (ec) {
    abort();
    co_return false;
  }
  if (cut) {
    abort();
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> response_writer::async_send(int status, const header_list& headers,
                                                  std::string_view body) {
  started_ = true;
  status_ = status;
  std::string h = head(status, headers, body.size(), false);
  bool ok = co_await async_write_buffers(h, body);
  finished_ = ok;
  co_return ok;
}

asio::awaitable<bool> response_writer::async_begin(int status, const header_list& headers,
                                                   std::optional<std::uint64_t> content_length) {
  started_ = true;
  status_ = status;
  chunked_ = !content_length.has_value();
  std::string h = head(status, headers, content_length, chunked_);
  co_return co_await async_write_buffers(h);
}

asio::awaitable<bool> response_writer::async_write_body(std::string_view data) {
  if (data.empty()) co_return !aborted_;
  if (!chunked_) co_return co_await async_write_buffers(data);
  char size_line[24];
  auto r = fmt::format_to_n(size_line, sizeof size_line - 2, "{:x}\r\n", data.size());
  co_return co_await async_write_buffers(std::string_view(size_line, r.size), data, "\r\n");
}

asio::awaitable<bool> response_writer::async_finish() {
  bool ok = true;
  if (chunked_) ok = co_await async_write_buffers("0\r\n\r\n");
  finished_ = ok;
  co_return ok;
}

asio::awaitable<bool> response_writer::async_write_raw(std::string_view bytes) {
  started_ = true;
  co_return co_await async_write_buffers(bytes);
}

asio::awaitable<void> response_writer::async_wait_closed() {
  keep_alive_ = false;
  char buf[512];
  for (;;) {
    if (aborted_ || !sock_.is_open()) co_return;
    auto [ec, n] = co_await sock_.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) co_return;
  }
}

}  // namespace bp::httpd
