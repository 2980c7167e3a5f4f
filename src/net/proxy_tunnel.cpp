#include "baton_percipio/net/detail/proxy_tunnel.hpp"

#include <algorithm>

namespace bp::net::detail {

std::string connect_request(std::string_view authority, const proxy_endpoint& proxy, std::string_view user_agent) {
  std::string out;
  out.reserve(160);
  out.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
  if (!user_agent.empty()) out.append("User-Agent: ").append(user_agent).append("\r\n");
  if (proxy.has_credentials()) out.append("Proxy-Authorization: ").append(proxy.basic_authorization()).append("\r\n");
  out.append("\r\n");
  return out;
}

connect_reply parse_connect_reply(std::string_view received, std::size_t max_head_bytes) {
  connect_reply r;
  // The status line must start like "HTTP/1.x " as soon as those bytes are here: a proxy that
  // answers anything else is reported at once rather than after a timeout.
  constexpr std::string_view prefix = "HTTP/1.";
  const std::size_t n = std::min(received.size(), prefix.size());
  if (received.substr(0, n) != prefix.substr(0, n)) {
    r.st = connect_reply::state::garbage;
    return r;
  }
  auto end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    r.st = received.size() >= max_head_bytes ? connect_reply::state::too_large : connect_reply::state::incomplete;
    return r;
  }
  if (end + 4 > max_head_bytes) {
    r.st = connect_reply::state::too_large;
    return r;
  }
  std::string_view line = received.substr(0, received.find("\r\n"));
  // "HTTP/1.x NNN[ reason]"
  if (line.size() < 12 || (line[7] != '0' && line[7] != '1') || line[8] != ' ' || line[9] < '1' || line[9] > '5' ||
      line[10] < '0' || line[10] > '9' || line[11] < '0' || line[11] > '9' || (line.size() > 12 && line[12] != ' ')) {
    r.st = connect_reply::state::garbage;
    return r;
  }
  r.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (line.size() > 13) {
    for (char c : line.substr(13)) {
      if (r.reason.size() >= 60) break;
      if (c >= 0x20 && c < 0x7f) r.reason += c;
    }
  }
  r.head_bytes = end + 4;
  r.st = connect_reply::state::complete;
  return r;
}

}  // namespace bp::net::detail
