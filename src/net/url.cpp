#include "baton_percipio/net/url.hpp"

#include <algorithm>
#include <charconv>

#include "baton_percipio/core/ascii.hpp"

namespace bp::net {
namespace {

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

}  // namespace

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::optional<url> url::parse(std::string_view text) {
  url u;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  u.scheme = ascii::lower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  text.remove_prefix(sep + 3);
  if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  auto path_start = text.find_first_of("/?");
  std::string_view authority = text.substr(0, path_start);
  std::string_view rest = path_start == std::string_view::npos ? std::string_view{} : text.substr(path_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host;
  std::string_view port_text;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return std::nullopt;
  } else {
    auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  u.host = ascii::lower(host);
  if (u.host.empty()) return std::nullopt;
  if (authority.front() != '[' && !std::all_of(u.host.begin(), u.host.end(), valid_host_char)) return std::nullopt;

  u.port = default_port(u.scheme);
  if (!port_text.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || p == 0 || p > 65535) return std::nullopt;
    u.port = static_cast<std::uint16_t>(p);
  } else if (authority.back() == ':') {
    return std::nullopt;
  }

  // Built by appending: GCC 12 at -O3 reports a false -Wrestrict for `target = "/"` and
  // `"/" + std::string(rest)` here.
  if (rest.empty() || rest.front() == '?') u.target.push_back('/');
  u.target.append(rest);
  for (char c : u.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;  // no raw spaces/controls
  }
  return u;
}

std::string url::host_header() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  std::string out;  // appended piecewise: `"[" + host + "]"` trips GCC 12's false -Wrestrict at -O3
  out.reserve(host.size() + 8);
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  if (port != default_port(scheme)) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string url::origin() const { return scheme + "://" + host_header(); }

std::string url::str() const { return origin() + target; }

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1") return true;
  if (host.size() > 10 && host.substr(host.size() - 10) == ".localhost") return false;  // not guaranteed local
  // 127.0.0.0/8 as a dotted quad.
  if (host.substr(0, 4) != "127.") return false;
  int parts = 0;
  std::size_t i = 0;
  while (i <= host.size()) {
    auto dot = host.find('.', i);
    std::string_view part = host.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc{} || ptr != part.data() + part.size() || v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return parts == 4;
}

}  // namespace bp::net
