// Client id and API host parsing (spec c1-service-mode.md 3.1 and 2).
#include <cctype>
#include <optional>

#include "baton_percipio/service/credentials.hpp"

namespace bp::service {
namespace {

constexpr std::string_view id_setting = "--client-id / BATON_CLIENT_ID";
constexpr std::string_view id_shape = " (expected <name>@<host[:port]>/<suffix>)";

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

// "host", "host:port", "[v6]" or "[v6]:port". Host names are restricted to the characters DNS
// names and IPv4 literals use, so the value can go into a URL unchanged.
std::optional<endpoint> parse_host_port(std::string_view s) {
  endpoint ep;
  std::string_view port_part;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    std::string_view host = s.substr(1, close - 1);
    for (char c : host) {
      if (std::isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':' && c != '.') return std::nullopt;
    }
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port_part = rest.substr(1);
      if (port_part.empty()) return std::nullopt;
    }
    ep.host = std::string(host);
  } else {
    auto colon = s.find(':');
    std::string_view host = s.substr(0, colon);
    if (host.empty()) return std::nullopt;
    for (char c : host) {
      if (!is_name_char(c)) return std::nullopt;
    }
    if (colon != std::string_view::npos) {
      port_part = s.substr(colon + 1);
      if (port_part.empty()) return std::nullopt;
    }
    ep.host = std::string(host);
  }
  if (!port_part.empty()) {
    auto port = parse_port(port_part);
    if (!port) return std::nullopt;
    ep.port = *port;
  }
  return ep;
}

failure bad_id(std::string_view why) {
  return make_failure(errc::invalid_client_id, std::string(id_setting) + ": " + std::string(why) + std::string(id_shape));
}

}  // namespace

std::string endpoint::host_port() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

result<client_id> parse_client_id(std::string_view id) {
  // The value is not echoed: an operator who swapped the two settings would otherwise see the
  // secret in the message.
  if (id.empty()) return bad_id("is empty");
  auto at = id.find('@');
  if (at == std::string_view::npos) return bad_id("has no '@'");
  std::string_view rest = id.substr(at + 1);
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return bad_id("has no '/' after the '@'");
  client_id out;
  out.full = std::string(id);
  out.name = std::string(id.substr(0, at));
  out.host_port = std::string(rest.substr(0, slash));
  if (out.name.empty()) return bad_id("has an empty name before the '@'");
  if (out.host_port.empty()) return bad_id("has an empty host between '@' and '/'");
  auto ep = parse_host_port(out.host_port);
  if (!ep) return bad_id("has an invalid host or port between '@' and '/'");
  out.audience = ep->host;
  out.port = ep->port;
  return out;
}

result<endpoint> api_endpoint(const client_id& id, std::string_view api_host_override) {
  if (api_host_override.empty()) return endpoint{id.audience, id.port};
  auto ep = parse_host_port(api_host_override);
  if (!ep) {
    return make_failure(errc::invalid_api_host,
                        "BATON_C1_API_HOST must be a host name or address with an optional :port, got \"" +
                            std::string(api_host_override) + "\"");
  }
  return *ep;
}

}  // namespace bp::service
