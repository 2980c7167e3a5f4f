#pragma once
// Incremental HTTP/1.1 request parser over llhttp (HTTP_REQUEST mode) with header and body limits.
// Bytes may arrive split anywhere; pipelined requests are handled one at a time.
#include <cstddef>
#include <memory>
#include <string_view>

#include "baton_percipio/httpd/request.hpp"

namespace bp::httpd {

struct parser_limits {
  std::size_t max_header_bytes = 64 * 1024;  // request line plus all header names and values
  std::size_t max_body_bytes = 1024 * 1024;
};

class request_parser {
 public:
  enum class state { need_more, complete, error };
  struct result {
    std::size_t consumed = 0;  // bytes of the input that belong to this request (or were parsed)
    state st = state::need_more;
  };

  explicit request_parser(parser_limits limits = {});
  ~request_parser();
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  // Feeds bytes. Stops right after a complete request, so the rest of `data` (a pipelined request)
  // must be fed again after next(). After `error`, error_status() says what to answer.
  result feed(std::string_view data);
  // Tells the parser the peer closed the connection (completes a body delimited by EOF; else error).
  result feed_eof();

  request& current();
  // Clears the finished request and readies the parser for the next one on the same connection.
  void next();
  // 400 malformed, 413 body too large, 431 headers too large.
  int error_status() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::httpd
