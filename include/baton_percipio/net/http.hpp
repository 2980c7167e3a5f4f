#pragma once
// Request and response values exchanged with bp::net::client.
#include <asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/core/http_header.hpp"
#include "baton_percipio/net/url.hpp"

namespace bp::net {

using http::header;

// Spare bytes kept after response::body so simdjson can parse it in place (SIMDJSON_PADDING).
inline constexpr std::size_t body_padding = 64;

struct request {
  std::string method = "GET";
  url u;
  std::vector<header> headers;  // sent after Host, User-Agent, Accept-Encoding (caller may override those)
  std::string body;             // sent with Content-Length when non-empty (or when method is POST/PUT/PATCH)
};

struct response {
  int status = 0;
  std::vector<header> headers;
  std::string body;  // decoded (inflated); capacity() >= size() + body_padding
  // Human-readable detail for a failure (OpenSSL reason, resolver message...). Never holds secrets.
  std::string error_detail;
  // When the first byte of this answer arrived (none: no answer). The server had the request by then.
  std::optional<std::chrono::steady_clock::time_point> first_byte_at;

  // Case-insensitive; the first matching header.
  std::optional<std::string_view> header_value(std::string_view name) const;
};

// Streaming body consumer: gets decoded (inflated) body bytes as they arrive. A non-empty
// return aborts the request with that error and closes the connection.
using body_sink = std::function<std::error_code(std::string_view chunk)>;

// Awaited before each socket read of a streamed body after the first: a consumer that is behind
// pauses the download here, so unread bytes wait in the socket buffers (and TCP flow control
// slows the sender) instead of piling up in memory. Should finish when the coroutine is cancelled.
using read_gate = std::function<asio::awaitable<void>()>;

using ascii::iequals;
using http::find_header;

namespace detail {
// The request bytes (request line + headers + body). Adds Host, User-Agent, Accept-Encoding and
// Content-Length unless the caller supplied them.
std::string serialize_request(const request& req, std::string_view user_agent, bool accept_gzip);
// Debug-log rendering of the request headers with Authorization (and Cookie) values redacted.
std::string redacted_headers(const std::vector<header>& headers);
}  // namespace detail

}  // namespace bp::net
