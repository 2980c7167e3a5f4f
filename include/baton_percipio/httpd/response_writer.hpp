#pragma once
// What a handler uses to answer one request: a full response, or status + headers followed by
// streamed body pieces (chunked or with a Content-Length), or raw bytes. Also fault injection:
// close the connection after K bytes, or abruptly at once.
//
// Every write returns false once the connection is gone (peer closed, close_after reached, server
// stopped); handlers that stream should then stop producing.
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "baton_percipio/httpd/request.hpp"

namespace bp::httpd {

std::string_view status_text(int status);

class response_writer {
 public:
  // `on_write` is called before every socket write so the owner can bound it with a timeout.
  response_writer(asio::ip::tcp::socket& sock, bool keep_alive, std::function<void()> on_write = {});

  // Complete response with Content-Length. Adds Content-Length, Connection and Date.
  asio::awaitable<bool> async_send(int status, const header_list& headers, std::string_view body);
  // Starts a streamed response: chunked when content_length is empty.
  asio::awaitable<bool> async_begin(int status, const header_list& headers,
                                    std::optional<std::uint64_t> content_length = std::nullopt);
  // One body piece of a streamed response (a chunk when chunked; empty pieces are skipped).
  asio::awaitable<bool> async_write_body(std::string_view data);
  // Ends a streamed response (the last chunk when chunked).
  asio::awaitable<bool> async_finish();
  // Bytes exactly as given (for malformed responses); counts towards close_after.
  asio::awaitable<bool> async_write_raw(std::string_view bytes);
  // Waits until the peer closes the connection or the server closes it (a stalled response).
  asio::awaitable<void> async_wait_closed();

  // Fault injection: after `bytes` response bytes (headers included) the connection is closed.
  void close_after(std::uint64_t bytes) { close_after_ = bytes; }
  // Closes the connection now, whatever was sent.
  void abort();
  // Do not keep the connection alive after this response.
  void set_close() { keep_alive_ = false; }
  // A header for whatever response this writer sends (set before the response starts).
  void add_header(header h) { extra_.push_back(std::move(h)); }

  bool keep_alive() const { return keep_alive_; }
  bool started() const { return started_; }
  bool finished() const { return finished_; }
  bool aborted() const { return aborted_; }
  int status() const { return status_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  asio::awaitable<bool> async_write_buffers(std::string_view a, std::string_view b = {},
                                            std::string_view c = {});
  std::string head(int status, const header_list& headers, std::optional<std::uint64_t> length,
                   bool chunked) const;

  asio::ip::tcp::socket& sock_;
  std::function<void()> on_write_;
  bool keep_alive_;
  bool started_ = false;
  bool finished_ = false;
  bool aborted_ = false;
  bool chunked_ = false;
  int status_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t close_after_ = std::numeric_limits<std::uint64_t>::max();
  header_list extra_;
};

}  // namespace bp::httpd
