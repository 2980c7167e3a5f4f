#include "baton_percipio/cli/value_parsers.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace bp::cli {
namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Leading decimal digits of s as an unsigned number; nullopt when there are none or it overflows.
std::optional<std::uint64_t> take_number(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n == 0) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + n, v);
  if (ec != std::errc() || p != s.data() + n) return std::nullopt;
  s.remove_prefix(n);
  return v;
}

bool valid_host_chars(std::string_view h) {
  return std::all_of(h.begin(), h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' || c == '.' || c == '_';
  });
}

bool valid_port(std::string_view p, std::uint16_t* out) {
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), is_digit)) return false;
  unsigned v = 0;
  std::from_chars(p.data(), p.data() + p.size(), v);
  if (v > 65535) return false;
  if (out) *out = static_cast<std::uint16_t>(v);
  return true;
}

bool valid_ipv6_chars(std::string_view h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

}  // namespace

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  // Bounded well below overflow: 1000 years is more than anyone means.
  constexpr std::uint64_t max_seconds = 1000ULL * 365 * 86400;
  std::uint64_t total = 0;
  while (!s.empty()) {
    auto n = take_number(s);
    if (!n || s.empty()) return std::nullopt;
    std::uint64_t unit = 0;
    switch (s.front()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'y': unit = 365ULL * 86400; break;
      default: return std::nullopt;
    }
    s.remove_prefix(1);
    if (*n > max_seconds / unit) return std::nullopt;
    total += *n * unit;
    if (total > max_seconds) return std::nullopt;
  }
  return std::chrono::seconds(static_cast<std::int64_t>(total));
}

std::optional<std::uint64_t> parse_size(std::string_view s) {
  auto n = take_number(s);
  if (!n) return std::nullopt;
  std::string suffix = ascii::lower(s);
  unsigned shift = 0;
  if (suffix.empty() || suffix == "b") {
    shift = 0;
  } else {
    switch (suffix.front()) {
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      case 't': shift = 40; break;
      default: return std::nullopt;
    }
    auto rest = std::string_view(suffix).substr(1);
    if (!(rest.empty() || rest == "b" || rest == "ib")) return std::nullopt;
  }
  if (*n > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
  return *n << shift;
}

std::optional<unsigned> parse_file_mode(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) s.remove_prefix(2);
  if (s.empty() || s.size() > 4) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return std::nullopt;
    v = v * 8 + static_cast<unsigned>(c - '0');
  }
  if (v > 0777) return std::nullopt;
  return v;
}

std::optional<host_port> parse_host_port(std::string_view s) {
  host_port r;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
    auto h = s.substr(1, close - 1);
    if (!valid_ipv6_chars(h)) return std::nullopt;
    r.host = std::string(h);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto h = s.substr(0, colon);
    if (h.find(':') != std::string_view::npos || !valid_host_chars(h)) return std::nullopt;
    r.host = std::string(h);
    port = s.substr(colon + 1);
  }
  if (!valid_port(port, &r.port)) return std::nullopt;
  return r;
}

std::optional<http_url> parse_http_url(std::string_view s) {
  auto sep = s.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  http_url u;
  u.scheme = ascii::lower(s.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  auto rest = s.substr(sep + 3);
  if (rest.find_first_of("?#@ \t\r\n\\") != std::string_view::npos) return std::nullopt;
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.empty()) return std::nullopt;
  std::string_view host, port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    if (!valid_ipv6_chars(host)) return std::nullopt;
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (!valid_port(port, nullptr)) return std::nullopt;
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (!valid_port(port, nullptr)) return std::nullopt;
    }
    if (host.empty() || !valid_host_chars(host)) return std::nullopt;
  }
  u.host = ascii::lower(host);
  u.port = std::string(port);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.find_first_of("\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x7f") != std::string_view::npos) {
    return std::nullopt;
  }
  u.path = std::string(path);
  return u;
}

std::string to_string(const http_url& u) {
  std::string r = u.scheme + "://";
  if (u.host.find(':') != std::string::npos) {
    r += "[" + u.host + "]";
  } else {
    r += u.host;
  }
  if (!u.port.empty()) r += ":" + u.port;
  r += u.path;
  return r;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  while (true) {
    auto comma = s.find(',');
    auto item = trim(s.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace bp::cli
