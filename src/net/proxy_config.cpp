#include "baton_percipio/net/proxy_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/net/url.hpp"

namespace bp::net {
namespace {

using ascii::lower;
using ascii::trim;
using ascii::hex_value;

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string percent_encode_userinfo(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
             static_cast<unsigned char>(in[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (i + 1 == in.size()) {
    auto n = static_cast<unsigned char>(in[i]) << 16;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    auto n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// An IPv4 or IPv6 literal as 16 bytes (IPv4 mapped into ::ffff:0:0/96).
std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::memcpy(out.data(), &v6, 16);
  return out;
}

bool prefix_equal(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b, unsigned bits) {
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    unsigned take = std::min(bits, 8u);
    auto mask = static_cast<std::uint8_t>(0xff << (8 - take));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

// Go's net.SplitHostPort: "host:port" or "[host]:port"; nullopt when there is no single port colon.
std::optional<std::pair<std::string_view, std::string_view>> split_host_port(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return std::nullopt;
    return std::pair{s.substr(1, close - 1), s.substr(close + 2)};
  }
  auto colon = s.find(':');
  if (colon == std::string_view::npos || s.find(':', colon + 1) != std::string_view::npos) return std::nullopt;
  return std::pair{s.substr(0, colon), s.substr(colon + 1)};
}

}  // namespace

std::string proxy_endpoint::host_port() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string proxy_endpoint::basic_authorization() const {
  if (!has_credentials()) return {};
  return "Basic " + base64(username + ":" + password);
}

std::string proxy_endpoint::url_with_credentials() const {
  std::string out = "http://";
  if (has_credentials()) out += percent_encode_userinfo(username) + ":" + percent_encode_userinfo(password) + "@";
  return out + host_port();
}

std::optional<proxy_endpoint> parse_proxy_url(std::string_view text, std::string& error) {
  text = trim(text);
  if (text.empty()) {
    error = "is empty";
    return std::nullopt;
  }
  if (auto sep = text.find("://"); sep != std::string_view::npos) {
    std::string scheme = lower(text.substr(0, sep));
    if (scheme != "http") {
      error = "must be an http:// proxy URL (only http:// proxies are supported, not " +
              (scheme.size() <= 10 && std::all_of(scheme.begin(), scheme.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
               })
                   ? scheme + "://"
                   : std::string("that scheme")) +
              ")";
      return std::nullopt;
    }
    text.remove_prefix(sep + 3);
  }
  // Only a trailing "/" may follow the authority: a proxy URL has no path.
  if (auto slash = text.find_first_of("/?#"); slash != std::string_view::npos) {
    if (text.substr(slash) != "/") {
      error = "must be http://[user:password@]host[:port] without a path";
      return std::nullopt;
    }
    text = text.substr(0, slash);
  }
  proxy_endpoint p;
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = text.substr(0, at);
    text.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto pass = colon == std::string_view::npos ? std::optional<std::string>("")
                                                : percent_decode(userinfo.substr(colon + 1));
    if (!user || !pass) {
      error = "has a malformed percent-encoding in its user:password";
      return std::nullopt;
    }
    p.username = std::move(*user);
    p.password = std::move(*pass);
  }
  // Reuse the URL parser for host and port (IPv6 brackets, port range, host characters).
  auto u = url::parse("http://" + std::string(text) + "/");
  if (!u) {
    error = "must be http://[user:password@]host[:port] with a valid host and port";
    return std::nullopt;
  }
  p.host = u->host;
  p.port = u->port;
  return p;
}

no_proxy_list::no_proxy_list(std::string_view text) {
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string entry = lower(trim(text.substr(0, comma)));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") {
      all_ = true;
      ips_.clear();
      domains_.clear();
      return;
    }
    // addr/bits
    if (auto slash = entry.find('/'); slash != std::string::npos) {
      auto ip = parse_ip(std::string_view(entry).substr(0, slash));
      unsigned bits = 0;
      std::string_view bt = std::string_view(entry).substr(slash + 1);
      auto [ptr, ec] = std::from_chars(bt.data(), bt.data() + bt.size(), bits);
      bool v4 = entry.find(':') == std::string::npos;
      if (ip && !bt.empty() && ec == std::errc{} && ptr == bt.data() + bt.size() && bits <= (v4 ? 32u : 128u)) {
        ips_.push_back({*ip, v4 ? bits + 96 : bits, {}});
      }
      continue;  // a malformed range is ignored, as Go ignores it
    }
    std::string_view host = entry;
    std::string_view port;
    if (auto hp = split_host_port(entry)) {
      if (hp->first.empty()) continue;
      host = hp->first;
      port = hp->second;
    }
    if (auto ip = parse_ip(host)) {
      ips_.push_back({*ip, 128, std::string(port)});
      continue;
    }
    if (host.empty()) continue;
    if (host.substr(0, 2) == "*.") host.remove_prefix(1);
    domain_rule d;
    d.match_host = host.front() != '.';
    d.suffix = d.match_host ? "." + std::string(host) : std::string(host);
    d.port = std::string(port);
    domains_.push_back(std::move(d));
  }
}

bool no_proxy_list::matches(std::string_view host, std::uint16_t port) const {
  if (all_) return true;
  const std::string port_text = std::to_string(port);
  auto port_ok = [&](const std::string& p) { return p.empty() || p == port_text; };
  if (auto ip = parse_ip(host)) {
    for (const auto& r : ips_) {
      if (prefix_equal(r.ip, *ip, r.prefix_bits) && (r.prefix_bits < 128 || port_ok(r.port))) return true;
    }
  }
  for (const auto& d : domains_) {
    bool suffix = host.size() >= d.suffix.size() && host.substr(host.size() - d.suffix.size()) == d.suffix;
    bool exact = d.match_host && host == std::string_view(d.suffix).substr(1);
    if ((suffix || exact) && port_ok(d.port)) return true;
  }
  return false;
}

const proxy_endpoint* proxy_config::for_destination(std::string_view scheme, std::string_view host,
                                                    std::uint16_t port) const {
  const std::optional<proxy_endpoint>* p = nullptr;
  if (scheme == "https") {
    p = &https_proxy;
  } else if (scheme == "http") {
    p = &http_proxy;
  }
  if (p == nullptr || !p->has_value()) return nullptr;
  std::string h = lower(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (is_loopback_host(h)) return nullptr;
  if (auto ip = parse_ip(h); ip && (*ip)[10] == 0xff && (*ip)[11] == 0xff &&
                             std::all_of(ip->begin(), ip->begin() + 10, [](auto b) { return b == 0; }) &&
                             (*ip)[12] == 127) {
    return nullptr;  // 127.0.0.0/8 in a form is_loopback_host does not spell out (e.g. ::ffff:127.0.0.1)
  }
  if (no_proxy.matches(h, port)) return nullptr;
  return &**p;
}

proxy_config_result make_proxy_config(std::string_view explicit_proxy, std::string_view explicit_name,
                                      const proxy_env_lookup& env) {
  proxy_config_result r;
  auto get = [&](std::string_view name) -> std::optional<std::string> {
    if (!env) return std::nullopt;
    auto v = env(name);
    if (v && trim(*v).empty()) return std::nullopt;
    return v;
  };
  auto first = [&](std::initializer_list<std::string_view> names) -> std::pair<std::string_view, std::string> {
    for (auto n : names) {
      if (auto v = get(n)) return {n, *v};
    }
    return {};
  };
  if (auto v = first({"NO_PROXY", "no_proxy"}); !v.first.empty()) r.config.no_proxy = no_proxy_list(v.second);

  std::string err;
  if (!trim(explicit_proxy).empty()) {
    auto p = parse_proxy_url(explicit_proxy, err);
    if (!p) {
      r.error = std::string(explicit_name) + " " + err;
      return r;
    }
    r.config.https_proxy = *p;
    r.config.http_proxy = *p;
    return r;
  }
  if (auto v = first({"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}); !v.first.empty()) {
    auto p = parse_proxy_url(v.second, err);
    if (!p) {
      r.error = std::string(v.first) + " " + err;
      return r;
    }
    r.config.https_proxy = *p;
  }
  const bool cgi = get("REQUEST_METHOD").has_value();
  auto hv = cgi ? first({"http_proxy", "ALL_PROXY", "all_proxy"})
                : first({"HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"});
  if (!hv.first.empty()) {
    if (auto p = parse_proxy_url(hv.second, err)) r.config.http_proxy = *p;
  }
  return r;
}

}  // namespace bp::net
