// The CONNECT request bytes and the parser of the proxy's reply head.
#include <doctest/doctest.h>

#include "baton_percipio/net/detail/proxy_tunnel.hpp"

using bp::net::detail::connect_reply;
using bp::net::detail::parse_connect_reply;

TEST_CASE("CONNECT request: Host, User-Agent and Basic credentials only when the proxy has them") {
  bp::net::proxy_endpoint p{"proxy", 3128, "", ""};
  CHECK(bp::net::detail::connect_request("api.percipio.com:443", p, "ua/1") ==
        "CONNECT api.percipio.com:443 HTTP/1.1\r\nHost: api.percipio.com:443\r\nUser-Agent: ua/1\r\n\r\n");
  p.username = "Aladdin";
  p.password = "open sesame";
  CHECK(bp::net::detail::connect_request("[fd00::1]:443", p, "") ==
        "CONNECT [fd00::1]:443 HTTP/1.1\r\nHost: [fd00::1]:443\r\n"
        "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

TEST_CASE("CONNECT reply: complete, incomplete, garbage and oversized heads") {
  auto r = parse_connect_reply("HTTP/1.1 200 Connection established\r\nVia: x\r\n\r\n", 1024);
  CHECK(r.st == connect_reply::state::complete);
  CHECK(r.status == 200);
  CHECK(r.reason == "Connection established");
  CHECK(r.head_bytes == 47);
  r = parse_connect_reply("HTTP/1.0 407\r\n\r\nbody", 1024);
  CHECK(r.st == connect_reply::state::complete);
  CHECK(r.status == 407);
  CHECK(r.head_bytes == 16);
  CHECK(parse_connect_reply("HTTP/1.1 200 OK\r\n", 1024).st == connect_reply::state::incomplete);
  CHECK(parse_connect_reply("HTT", 1024).st == connect_reply::state::incomplete);
  CHECK(parse_connect_reply("SSH-2.0-OpenSSH", 1024).st == connect_reply::state::garbage);
  CHECK(parse_connect_reply("HTTP/1.1 2x0 OK\r\n\r\n", 1024).st == connect_reply::state::garbage);
  CHECK(parse_connect_reply("HTTP/1.1 200OK\r\n\r\n", 1024).st == connect_reply::state::garbage);
  CHECK(parse_connect_reply("HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'a'), 1024).st ==
        connect_reply::state::too_large);
  // The reason is shown to users: control bytes are dropped and it is shortened.
  r = parse_connect_reply("HTTP/1.1 403 Bad\x1b[31m" + std::string(100, 'r') + "\r\n\r\n", 1024);
  CHECK(r.reason.size() == 60);
  CHECK(r.reason.find('\x1b') == std::string::npos);
}
