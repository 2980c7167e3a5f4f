// The TLS front: one port, routed by ALPN (server preference http/1.1, then h2) or, without ALPN,
// by the first bytes.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>

#include "baton_percipio/fake_c1/server.hpp"
#include "test_client.hpp"

namespace fc = bp::fake_c1;
namespace t = bp::fake_c1_test;

namespace {

const std::string token_get = "GET /auth/v1/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
// The HTTP/2 client preface and an empty SETTINGS frame.
const std::string h2_start = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\x04\0\0\0\0\0", 9);

// The first frame a gRPC server sends is its SETTINGS (type 4) on stream 0.
bool starts_with_h2_settings(const std::string& bytes) {
  return bytes.size() >= 9 && bytes[3] == '\x04' && bytes.substr(5, 4) == std::string("\0\0\0\0", 4);
}

}  // namespace

TEST_CASE("ALPN routing") {
  fc::server srv;

  SUBCASE("http/1.1 alone goes to the token handler") {
    auto r = t::tls_exchange(srv.port(), srv.ca_pem(), {"http/1.1"}, token_get);
    CHECK(r.alpn == "http/1.1");
    CHECK(r.bytes.rfind("HTTP/1.1 405", 0) == 0);
  }
  SUBCASE("h2 and http/1.1 offered: the server picks http/1.1") {
    auto r = t::tls_exchange(srv.port(), srv.ca_pem(), {"h2", "http/1.1"}, token_get);
    CHECK(r.alpn == "http/1.1");
    CHECK(r.bytes.rfind("HTTP/1.1 405", 0) == 0);
  }
  SUBCASE("h2 alone (gRPC clients) goes to gRPC") {
    auto r = t::tls_exchange(srv.port(), srv.ca_pem(), {"grpc-exp", "h2"}, h2_start, 9);
    CHECK(r.alpn == "h2");
    CHECK(starts_with_h2_settings(r.bytes));
  }
  SUBCASE("no ALPN: the HTTP/2 preface goes to gRPC") {
    auto r = t::tls_exchange(srv.port(), srv.ca_pem(), {}, h2_start, 9);
    CHECK(r.alpn.empty());
    CHECK(starts_with_h2_settings(r.bytes));
  }
  SUBCASE("no ALPN: anything else goes to the token handler") {
    auto r = t::tls_exchange(srv.port(), srv.ca_pem(), {}, token_get);
    CHECK(r.alpn.empty());
    CHECK(r.bytes.rfind("HTTP/1.1 405", 0) == 0);
  }
  SUBCASE("no common protocol: handled like no ALPN") {
    auto r = t::tls_exchange(srv.port(), srv.ca_pem(), {"spdy/3"}, token_get);
    CHECK(r.alpn.empty());
    CHECK(r.bytes.rfind("HTTP/1.1 405", 0) == 0);
  }
  CHECK(srv.wait_for([](const fc::call_counts& c) { return c.connections >= 1; }, std::chrono::seconds(5)));
}

TEST_CASE("connection records say where each connection went") {
  fc::server srv;
  t::tls_exchange(srv.port(), srv.ca_pem(), {"http/1.1"}, token_get);
  t::tls_exchange(srv.port(), srv.ca_pem(), {"h2"}, h2_start, 9);
  t::tls_exchange(srv.port(), srv.ca_pem(), {}, h2_start, 9);
  REQUIRE(srv.wait_for([](const fc::call_counts& c) { return c.connections == 3; }, std::chrono::seconds(5)));
  auto recs = srv.connections();
  CHECK(recs[0].alpn == "http/1.1");
  CHECK(recs[0].backend == "token");
  CHECK(recs[1].alpn == "h2");
  CHECK(recs[1].backend == "grpc");
  CHECK(recs[2].alpn == "");
  CHECK(recs[2].backend == "grpc");
}

TEST_CASE("the certificate is for 127.0.0.1 and localhost, signed by the written CA") {
  auto dir = std::filesystem::temp_directory_path();
  fc::options o;
  o.ca_out = dir / ("fake_c1_ca_" + std::to_string(::getpid()) + ".pem");
  fc::server srv(o);
  CHECK(srv.ca_file() == o.ca_out);
  CHECK(std::filesystem::file_size(o.ca_out) == srv.ca_pem().size());
  // tls_exchange verifies the chain and the IP; a foreign CA must fail the handshake.
  CHECK(t::tls_exchange(srv.port(), srv.ca_pem(), {"http/1.1"}, token_get).handshake_ok);
  fc::server other;
  auto r = t::tls_exchange(srv.port(), other.ca_pem(), {"http/1.1"}, token_get);
  CHECK_FALSE(r.handshake_ok);
  std::filesystem::remove(o.ca_out);
}
