// The proxy decision: NO_PROXY matching (the cases of Go's httpproxy TestUseProxy, plus ports,
// '*' and the loopback rule), proxy URL parsing, and which variable wins.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "baton_percipio/net/proxy_config.hpp"

using bp::net::make_proxy_config;
using bp::net::no_proxy_list;
using bp::net::parse_proxy_url;
using bp::net::proxy_config;

namespace {

bp::net::proxy_env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// host without brackets; true: the proxy is used for host:80.
bool proxied(const proxy_config& c, std::string_view host, std::uint16_t port = 80) {
  return c.for_destination("https", host, port) != nullptr;
}

}  // namespace

TEST_CASE("NO_PROXY: Go's httpproxy table (destination port 80)") {
  proxy_config c;
  c.https_proxy = bp::net::proxy_endpoint{"proxy.corp", 3128, "", ""};
  c.no_proxy = no_proxy_list(
      "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, "
      "2001:db8::52:0:1, [2001:db8::52:0:3]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64");
  struct row {
    const char* host;
    bool proxy;
  };
  const row rows[] = {
      // Never proxy loopback.
      {"localhost", false},
      {"127.0.0.1", false},
      {"127.0.0.2", false},
      {"::1", false},
      {"::2", true},  // not a loopback address
      {"192.168.1.1", false},              // exact IPv4
      {"192.168.1.2", true},               // the entry's port (81) differs
      {"192.168.1.3", false},              // exact IPv4:port
      {"192.168.1.4", true},               // no match
      {"10.0.0.2", false},                 // IPv4 CIDR
      {"2001:db8::52:0:1", false},         // exact IPv6
      {"2001:db8::52:0:2", true},          // no match
      {"2001:db8::52:0:3", false},         // exact [IPv6]:port
      {"2002:db8:a::123", false},          // IPv6 CIDR
      {"fe80::424b:c8be:1643:a1b6", true}, // no match
      {"barbaz.net", true},                // ".barbaz.net" is only for subdomains
      {"www.barbaz.net", false},           // subdomain of .barbaz.net
      {"foobar.com", false},               // "foobar.com" matches itself
      {"www.foobar.com", false},           // ... and its subdomains
      {"foofoobar.com", true},             // not a suffix at a label boundary
      {"baz.com", true},                   // not part of barbaz.com
      {"localhost.net", true},             // "localhost" is not a suffix rule
      {"local.localhost", true},
      {"barbarbaz.net", true},
      {"wildcard.io", true},               // "*.wildcard.io" is only for subdomains
      {"nested.wildcard.io", false},
      {"awildcard.io", true},
  };
  for (const auto& r : rows) {
    INFO(r.host);
    CHECK(proxied(c, r.host) == r.proxy);
  }
}

TEST_CASE("NO_PROXY: ports, case, blanks, '*' and malformed entries") {
  proxy_config c;
  c.https_proxy = bp::net::proxy_endpoint{"proxy.corp", 3128, "", ""};
  c.no_proxy = no_proxy_list(" API.Example.COM:8443 ,, :99, 10.1.0.0/40, .Internal ");
  CHECK_FALSE(proxied(c, "api.example.com", 8443));
  CHECK(proxied(c, "api.example.com", 443));  // host:port entries match only that port
  CHECK_FALSE(proxied(c, "eu.api.example.com", 8443));
  CHECK_FALSE(proxied(c, "db.internal", 443));
  CHECK(proxied(c, "internal", 443));
  CHECK(proxied(c, "10.1.2.3", 443));  // "/40" is not a valid IPv4 range: ignored
  CHECK(proxied(c, "api.percipio.com", 443));

  c.no_proxy = no_proxy_list("example.com,*");
  CHECK_FALSE(proxied(c, "api.percipio.com", 443));
  CHECK_FALSE(proxied(c, "10.0.0.1", 443));
  c.no_proxy = no_proxy_list("");
  CHECK(proxied(c, "api.percipio.com", 443));
  CHECK(proxied(c, "::ffff:10.0.0.1", 443));
  CHECK_FALSE(proxied(c, "::ffff:127.0.0.1", 443));  // loopback in IPv4-mapped form
  c.no_proxy = no_proxy_list("10.0.0.0/8");
  CHECK_FALSE(proxied(c, "::ffff:10.0.0.1", 443));  // the IPv4 range covers the mapped form
}

TEST_CASE("proxy URLs: http only, credentials percent-decoded, never echoed in errors") {
  std::string err;
  auto p = parse_proxy_url("http://al%40ice:s%3Acr%2Ft@Proxy.Corp:3128/", err);
  REQUIRE(p);
  CHECK(p->host == "proxy.corp");
  CHECK(p->port == 3128);
  CHECK(p->username == "al@ice");
  CHECK(p->password == "s:cr/t");
  CHECK(p->host_port() == "proxy.corp:3128");
  CHECK(p->basic_authorization() == "Basic YWxAaWNlOnM6Y3IvdA==");  // base64("al@ice:s:cr/t")
  CHECK(p->url_with_credentials() == "http://al%40ice:s%3Acr%2Ft@proxy.corp:3128");

  auto bare = parse_proxy_url("proxy.corp", err);  // scheme and port optional, as in Go
  REQUIRE(bare);
  CHECK(bare->port == 80);
  CHECK_FALSE(bare->has_credentials());
  CHECK(bare->basic_authorization().empty());
  auto v6 = parse_proxy_url("http://[fd00::1]:8080", err);
  REQUIRE(v6);
  CHECK(v6->host_port() == "[fd00::1]:8080");

  for (const char* bad : {"https://u:hunter22@proxy:443", "socks5://u:hunter22@proxy:1080", "http://u:hunter22@proxy:0",
                          "http://u:hunter22@proxy:3128/path", "http://u:hunter22@", "http://u:hunter22%zz@proxy", ""}) {
    INFO(bad);
    err.clear();
    CHECK_FALSE(parse_proxy_url(bad, err));
    CHECK_FALSE(err.empty());
    CHECK(err.find("hunter22") == std::string::npos);
  }
  parse_proxy_url("socks5://proxy:1080", err);
  CHECK(err.find("socks5://") != std::string::npos);
}

TEST_CASE("proxy variables: explicit setting first, then upper case, lower case, ALL_PROXY; CGI ignores HTTP_PROXY") {
  auto https_host = [](const bp::net::proxy_config_result& r) {
    return r.config.https_proxy ? r.config.https_proxy->host : std::string("-");
  };
  auto http_host = [](const bp::net::proxy_config_result& r) {
    return r.config.http_proxy ? r.config.http_proxy->host : std::string("-");
  };
  CHECK(https_host(make_proxy_config("", "--proxy", env_of({}))) == "-");
  CHECK(https_host(make_proxy_config("", "--proxy", env_of({{"https_proxy", "lower"}}))) == "lower");
  CHECK(https_host(make_proxy_config("", "--proxy", env_of({{"HTTPS_PROXY", "upper"}, {"https_proxy", "lower"}}))) ==
        "upper");
  CHECK(https_host(make_proxy_config("", "--proxy", env_of({{"HTTPS_PROXY", ""}, {"https_proxy", "lower"}}))) ==
        "lower");  // empty counts as unset
  CHECK(https_host(make_proxy_config("", "--proxy", env_of({{"ALL_PROXY", "all"}, {"all_proxy", "all2"}}))) == "all");
  CHECK(https_host(make_proxy_config("", "--proxy", env_of({{"all_proxy", "all2"}, {"https_proxy", "lower"}}))) ==
        "lower");
  CHECK(https_host(make_proxy_config("", "--proxy", env_of({{"HTTP_PROXY", "h"}}))) == "-");  // not for https
  auto expl = make_proxy_config("http://explicit:1", "--proxy", env_of({{"HTTPS_PROXY", "upper"}}));
  CHECK(https_host(expl) == "explicit");
  CHECK(http_host(expl) == "explicit");

  CHECK(http_host(make_proxy_config("", "--proxy", env_of({{"HTTP_PROXY", "upper"}, {"http_proxy", "lower"}}))) ==
        "upper");
  CHECK(http_host(make_proxy_config(
            "", "--proxy", env_of({{"HTTP_PROXY", "upper"}, {"http_proxy", "lower"}, {"REQUEST_METHOD", "GET"}}))) ==
        "lower");
  CHECK(http_host(make_proxy_config("", "--proxy", env_of({{"HTTP_PROXY", "upper"}, {"REQUEST_METHOD", "GET"}}))) ==
        "-");

  // NO_PROXY applies to the explicit proxy too; NO_PROXY before no_proxy.
  auto np = make_proxy_config("http://explicit:1", "--proxy",
                              env_of({{"NO_PROXY", ".corp"}, {"no_proxy", "api.percipio.com"}}));
  CHECK(np.config.for_destination("https", "api.percipio.com", 443) != nullptr);
  CHECK(np.config.for_destination("https", "c1.corp", 443) == nullptr);
  CHECK(make_proxy_config("", "--proxy", env_of({{"HTTPS_PROXY", "p"}, {"no_proxy", "*"}}))
            .config.for_destination("https", "api.percipio.com", 443) == nullptr);

  // Errors name the setting, never the value.
  auto bad = make_proxy_config("https://u:topsecret9@p:1", "--proxy / BATON_PROXY", env_of({}));
  CHECK(bad.error.rfind("--proxy / BATON_PROXY must be an http:// proxy URL", 0) == 0);
  CHECK(bad.error.find("topsecret9") == std::string::npos);
  auto bad_env = make_proxy_config("", "--proxy", env_of({{"https_proxy", "socks5://p:1080"}}));
  CHECK(bad_env.error.rfind("https_proxy must be an http:// proxy URL", 0) == 0);
  // A bad HTTP_PROXY is ignored: plain http goes only to loopback hosts, never proxied.
  CHECK(make_proxy_config("", "--proxy", env_of({{"HTTP_PROXY", "socks5://p:1080"}})).error.empty());
}
