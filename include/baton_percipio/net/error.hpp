#pragma once
// Error codes of the HTTP layer. Expected failures travel as std::error_code, never as exceptions.
#include <string>
#include <system_error>

namespace bp::net {

enum class errc {
  timeout = 1,        // a step timeout or the overall deadline passed
  connect_failed,     // resolve or TCP connect failed
  tls_failed,         // TLS handshake or certificate verification failed
  connection_closed,  // peer closed or reset before any response byte (or mid-headers)
  truncated_body,     // peer closed after promising more body bytes (Content-Length / chunked)
  protocol_error,     // malformed HTTP response
  header_too_large,   // status line + headers above client_options::max_header_bytes
  body_too_large,     // body above client_options::max_body_bytes
  cancelled,          // the awaiting operation was cancelled
  decompress_failed,  // bad or truncated gzip data, or an unsupported Content-Encoding
  insecure_url,       // http:// to a non-loopback host, or an unparsable URL
  proxy_refused,        // the proxy answered CONNECT with a status other than 2xx (and not 407)
  proxy_auth_required,  // the proxy answered CONNECT with 407: missing or wrong credentials (fatal)
  proxy_protocol_error, // the proxy's CONNECT reply was not HTTP, too large, or cut short
};

const std::error_category& net_category();
std::error_code make_error_code(errc e);

}  // namespace bp::net

template <>
struct std::is_error_code_enum<bp::net::errc> : std::true_type {};
