#pragma once
// Absolute http(s) URLs as the client needs them: scheme, host, port and request target.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bp::net {

struct url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case; IPv6 literals without brackets
  std::uint16_t port = 0;
  std::string target;  // path + query, always starts with '/'

  // Accepts "http(s)://host[:port][/path][?query]"; the fragment is dropped. Userinfo is refused.
  static std::optional<url> parse(std::string_view text);
  // "https://host[:port]" (port only when not the scheme default); also the pool key.
  std::string origin() const;
  // origin() + target.
  std::string str() const;
  // The Host header value: host[:port], IPv6 in brackets.
  std::string host_header() const;
};

// Percent-encodes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~), so the
// result is safe as a path segment or a query value.
std::string url_encode(std::string_view s);

// True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http:// may reach.
bool is_loopback_host(std::string_view host);

}  // namespace bp::net
