#pragma once
// llhttp glue: turns response bytes into status, headers and decoded body bytes. Independent of
// sockets so it can be tested by splitting input at every byte.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "baton_percipio/net/http.hpp"

namespace bp::net::detail {

class response_parser {
 public:
  struct limits {
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_body_bytes = 0;  // 0 = unlimited (streaming)
  };

  response_parser();
  ~response_parser();
  response_parser(const response_parser&) = delete;
  response_parser& operator=(const response_parser&) = delete;

  // Prepares for one response. head_request: the response has no body whatever it says.
  // sink: decoded body goes there instead of into body(). gunzip: inflate gzip/deflate bodies.
  void start(limits lim, bool head_request, body_sink sink = {}, bool gunzip = true);

  // Feeds received bytes. Bytes after the end of the message are counted in extra_bytes().
  std::error_code feed(std::string_view data);
  // The peer closed the stream: completes a close-delimited body, or reports what is missing.
  std::error_code finish_eof();

  bool headers_complete() const { return headers_complete_; }
  bool message_complete() const { return message_complete_; }
  // Valid once complete: the connection may carry another request.
  bool keep_alive() const;
  std::size_t extra_bytes() const { return extra_bytes_; }
  std::uint64_t bytes_fed() const { return bytes_fed_; }

  int status() const { return status_; }
  std::vector<header>& headers() { return headers_; }
  std::string& body() { return body_; }

 private:
  struct state;
  friend struct callbacks;
  std::unique_ptr<state> st_;
  int status_ = 0;
  std::vector<header> headers_;
  std::string body_;
  bool headers_complete_ = false;
  bool message_complete_ = false;
  std::size_t extra_bytes_ = 0;
  std::uint64_t bytes_fed_ = 0;
};

// Streaming gzip/zlib inflater (auto-detects the wrapper; concatenated gzip members allowed).
class inflater {
 public:
  inflater();
  ~inflater();
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;
  // Inflates in, handing output to out in pieces of at most 64 KiB.
  template <class Out>
  std::error_code feed(std::string_view in, Out&& out) {
    using fn_type = std::remove_reference_t<Out>;
    return feed_impl(in, [](void* ctx, std::string_view s) { return (*static_cast<fn_type*>(ctx))(s); }, &out);
  }
  // End of compressed input: an error unless a complete stream was seen.
  std::error_code finish() const;

 private:
  std::error_code feed_impl(std::string_view in, std::error_code (*fn)(void*, std::string_view), void* ctx);
  struct state;
  std::unique_ptr<state> st_;
};

}  // namespace bp::net::detail
