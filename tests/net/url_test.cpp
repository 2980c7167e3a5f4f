#include "baton_percipio/net/url.hpp"

#include <doctest/doctest.h>

#include "baton_percipio/net/http.hpp"

namespace bp::net {

TEST_CASE("url::parse") {
  auto u = url::parse("https://API.percipio.com/user-management/v1/organizations/x/users?offset=0&max=1000#frag");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "api.percipio.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/user-management/v1/organizations/x/users?offset=0&max=1000");
  CHECK(u->origin() == "https://api.percipio.com");
  CHECK(u->host_header() == "api.percipio.com");

  auto l = url::parse("http://127.0.0.1:8080");
  REQUIRE(l);
  CHECK(l->port == 8080);
  CHECK(l->target == "/");
  CHECK(l->origin() == "http://127.0.0.1:8080");
  CHECK(url::parse("http://localhost?x=1")->target == "/?x=1");

  auto v6 = url::parse("http://[::1]:9000/a");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->host_header() == "[::1]:9000");

  CHECK_FALSE(url::parse("ftp://x/"));
  CHECK_FALSE(url::parse("https://"));
  CHECK_FALSE(url::parse("https://user:pw@host/"));
  CHECK_FALSE(url::parse("https://host:0/"));
  CHECK_FALSE(url::parse("https://host:70000/"));
  CHECK_FALSE(url::parse("https://host:/"));
  CHECK_FALSE(url::parse("https://ho st/"));
  CHECK_FALSE(url::parse("https://host/a b"));
  CHECK_FALSE(url::parse("api.percipio.com/x"));
}

TEST_CASE("url_encode keeps unreserved characters and percent-encodes every other byte") {
  CHECK(bp::net::url_encode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(bp::net::url_encode("a b/c?d=e&f%") == "a%20b%2Fc%3Fd%3De%26f%25");
  CHECK(bp::net::url_encode("\xC3\xA9") == "%C3%A9");
  CHECK(bp::net::url_encode("").empty());
}

TEST_CASE("loopback hosts") {
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.1.2.3"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("127.0.0.1.evil.com"));
  CHECK_FALSE(is_loopback_host("127.0.0"));
  CHECK_FALSE(is_loopback_host("127.0.0.256"));
  CHECK_FALSE(is_loopback_host("128.0.0.1"));
  CHECK_FALSE(is_loopback_host("api.percipio.com"));
  CHECK_FALSE(is_loopback_host("foo.localhost"));
}

TEST_CASE("request serialization and header redaction") {
  request r;
  r.method = "POST";
  r.u = *url::parse("https://api.percipio.com:8443/reporting/x");
  r.headers = {{"Authorization", "Bearer SECRET-TOKEN"}, {"Accept", "application/json"}};
  r.body = "{}";
  std::string wire = detail::serialize_request(r, "baton-percipio/1", true);
  CHECK(wire.starts_with("POST /reporting/x HTTP/1.1\r\nHost: api.percipio.com:8443\r\n"));
  CHECK(wire.find("User-Agent: baton-percipio/1\r\n") != std::string::npos);
  CHECK(wire.find("Accept-Encoding: gzip\r\n") != std::string::npos);
  CHECK(wire.find("Content-Length: 2\r\n") != std::string::npos);
  CHECK(wire.ends_with("\r\n\r\n{}"));
  std::string logged = detail::redacted_headers(r.headers);
  CHECK(logged.find("SECRET") == std::string::npos);
  CHECK(logged.find("Accept: application/json") != std::string::npos);

  request g;
  g.u = *url::parse("http://127.0.0.1:1/");
  g.headers = {{"accept-encoding", "identity"}};
  std::string gw = detail::serialize_request(g, "ua", true);
  CHECK(gw.find("Content-Length") == std::string::npos);
  CHECK(gw.find("Accept-Encoding: gzip") == std::string::npos);

  response resp;
  resp.headers = {{"X-Total-Count", "5"}};
  CHECK(resp.header_value("x-total-count") == "5");
  CHECK_FALSE(resp.header_value("link"));
}

}  // namespace bp::net
