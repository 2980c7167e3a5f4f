#pragma once
// Which outbound connections go through an HTTP proxy: the proxy URL (--proxy / BATON_PROXY, else
// HTTPS_PROXY / HTTP_PROXY / ALL_PROXY) and the NO_PROXY list, with the precedence and matching
// rules of Go's golang.org/x/net/http/httpproxy (which the Go connectors use). Pure: no I/O.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bp::net {

// An http:// proxy. Credentials are percent-decoded and never shown: display with host_port().
struct proxy_endpoint {
  std::string host;  // lower case; IPv6 without brackets
  std::uint16_t port = 80;
  std::string username;
  std::string password;
  bool has_credentials() const { return !username.empty() || !password.empty(); }
  // "host:port" (IPv6 in brackets): the only form of a proxy that messages and logs may show.
  std::string host_port() const;
  // The Proxy-Authorization value, "Basic base64(user:password)"; empty without credentials.
  std::string basic_authorization() const;
  // "http://[user:password@]host:port" with the userinfo percent-encoded again: for libraries that
  // take a proxy URL (gRPC). A secret when has_credentials(): never log it.
  std::string url_with_credentials() const;
};

// Parses "http://[user[:password]@]host[:port][/]" or "host[:port]" (http:// assumed, as Go does).
// The port defaults to 80. On failure returns nullopt and sets error to a reason that never
// repeats the value (it may hold a password), e.g. "only http:// proxies are supported, not socks5://".
std::optional<proxy_endpoint> parse_proxy_url(std::string_view text, std::string& error);

// A parsed NO_PROXY list. Entries (comma-separated, case-insensitive, blanks ignored):
//   *                  no destination uses the proxy
//   foo.com            foo.com and its subdomains;  .foo.com / *.foo.com: only the subdomains
//   1.2.3.4, ::1       that address;  10.0.0.0/8, 2001:db8::/32: addresses in the range
//   any of those with :port (IPv6 as [addr]:port): only destinations on that port
class no_proxy_list {
 public:
  no_proxy_list() = default;
  explicit no_proxy_list(std::string_view text);
  // True when the list exempts host:port (host lower case, IPv6 without brackets).
  bool matches(std::string_view host, std::uint16_t port) const;
  bool empty() const { return !all_ && ips_.empty() && domains_.empty(); }

 private:
  using address = std::array<std::uint8_t, 16>;  // IPv4 as IPv4-mapped IPv6, so both forms compare equal
  struct ip_rule {
    address ip{};
    unsigned prefix_bits = 128;  // 128: one address
    std::string port;            // empty: any port
  };
  struct domain_rule {
    std::string suffix;  // always with a leading '.'
    bool match_host = false;  // the entry had no leading dot: the bare domain matches too
    std::string port;
  };
  bool all_ = false;
  std::vector<ip_rule> ips_;
  std::vector<domain_rule> domains_;
};

// The proxy decision for every destination of one process.
struct proxy_config {
  std::optional<proxy_endpoint> https_proxy;  // for https:// destinations
  std::optional<proxy_endpoint> http_proxy;   // for http:// destinations
  no_proxy_list no_proxy;

  // The proxy for scheme://host:port, or nullptr for a direct connection: none configured for the
  // scheme, a loopback destination (localhost, 127.0.0.0/8, ::1: never proxied), or NO_PROXY.
  const proxy_endpoint* for_destination(std::string_view scheme, std::string_view host, std::uint16_t port) const;
  bool any() const { return https_proxy || http_proxy; }
};

using proxy_env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

struct proxy_config_result {
  proxy_config config;
  std::string error;  // empty: ok. Names the setting, never repeats its value.
};

// Builds the configuration from an explicit proxy (--proxy / BATON_PROXY; empty: none) and the
// environment. An explicit proxy serves both schemes and replaces the proxy variables; NO_PROXY
// still applies to it, as Go applies it to HTTPS_PROXY. Otherwise, for https destinations the first
// non-empty of HTTPS_PROXY, https_proxy, ALL_PROXY, all_proxy; for http destinations HTTP_PROXY
// (ignored when REQUEST_METHOD is set: in a CGI program a request header can set it), http_proxy,
// ALL_PROXY, all_proxy. Upper case first, as Go reads them. NO_PROXY, then no_proxy. A value that is
// not an http:// proxy is an error for the explicit proxy and the https one (it would be used), and
// ignored for http (plain http goes only to loopback hosts, which are never proxied).
// explicit_name: how messages name the explicit setting (e.g. "--proxy / BATON_PROXY").
proxy_config_result make_proxy_config(std::string_view explicit_proxy, std::string_view explicit_name,
                                      const proxy_env_lookup& env);

}  // namespace bp::net
