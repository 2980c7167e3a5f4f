#pragma once
// The CONNECT exchange with an http:// proxy, without I/O: the request bytes and the parser of
// the proxy's reply head. The client drives them on the socket, then starts TLS through the tunnel.
#include <cstddef>
#include <string>
#include <string_view>

#include "baton_percipio/net/proxy_config.hpp"

namespace bp::net::detail {

// "CONNECT host:port HTTP/1.1" with Host, User-Agent and, when the proxy has credentials,
// Proxy-Authorization: Basic. authority: the destination as "host:port" (IPv6 in brackets).
std::string connect_request(std::string_view authority, const proxy_endpoint& proxy, std::string_view user_agent);

struct connect_reply {
  enum class state {
    incomplete,  // no blank line yet: read more
    complete,    // status and reason are set
    garbage,     // not an HTTP/1.x status line
    too_large,   // no end of the head within the limit
  };
  state st = state::incomplete;
  int status = 0;
  std::string reason;       // printable ASCII only, at most 60 characters
  std::size_t head_bytes = 0;  // length of the head including the blank line (complete only)
};

// Examines everything received so far from the proxy.
connect_reply parse_connect_reply(std::string_view received, std::size_t max_head_bytes);

}  // namespace bp::net::detail
