#include "baton_percipio/cli/value_parsers.hpp"

#include <doctest/doctest.h>

using namespace bp::cli;
using namespace std::chrono_literals;

TEST_CASE("uuids are 8-4-4-4-12 hex in either case") {
  CHECK(is_uuid("3fa85f64-5717-4562-b3fc-2c963f66afa6"));
  CHECK(is_uuid("3FA85F64-5717-4562-B3FC-2C963F66AFA6"));
  CHECK_FALSE(is_uuid(""));
  CHECK_FALSE(is_uuid("abc"));
  CHECK_FALSE(is_uuid("3fa85f6457174562b3fc2c963f66afa6"));
  CHECK_FALSE(is_uuid("3fa85f64-5717-4562-b3fc-2c963f66afa"));
  CHECK_FALSE(is_uuid("3fa85f64-5717-4562-b3fc-2c963f66afag"));
  CHECK_FALSE(is_uuid("3fa85f64-5717-4562-b3fc-2c963f66afa6 "));
  CHECK_FALSE(is_uuid("3fa85f64_5717-4562-b3fc-2c963f66afa6"));
}

TEST_CASE("durations need a unit and may combine several") {
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("90m") == 90min);
  CHECK(parse_duration("6h") == 6h);
  CHECK(parse_duration("3650d") == std::chrono::hours(24 * 3650));
  CHECK(parse_duration("10y") == std::chrono::hours(24 * 3650));
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("0s") == 0s);
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("30"));
  CHECK_FALSE(parse_duration("h"));
  CHECK_FALSE(parse_duration("6H"));
  CHECK_FALSE(parse_duration("6w"));
  CHECK_FALSE(parse_duration("-6h"));
  CHECK_FALSE(parse_duration("1.5h"));
  CHECK_FALSE(parse_duration("99999999999999999999s"));
  CHECK_FALSE(parse_duration("1001y"));
}

TEST_CASE("sizes take binary K/M/G/T suffixes") {
  CHECK(parse_size("0") == 0u);
  CHECK(parse_size("1024") == 1024u);
  CHECK(parse_size("1024B") == 1024u);
  CHECK(parse_size("64K") == 64u << 10);
  CHECK(parse_size("64k") == 64u << 10);
  CHECK(parse_size("64KB") == 64u << 10);
  CHECK(parse_size("64KiB") == 64u << 10);
  CHECK(parse_size("64M") == 64u << 20);
  CHECK(parse_size("16G") == 16ULL << 30);
  CHECK(parse_size("2T") == 2ULL << 40);
  CHECK_FALSE(parse_size(""));
  CHECK_FALSE(parse_size("M"));
  CHECK_FALSE(parse_size("64X"));
  CHECK_FALSE(parse_size("64MM"));
  CHECK_FALSE(parse_size("1.5G"));
  CHECK_FALSE(parse_size("-1"));
  CHECK_FALSE(parse_size("99999999999T"));
}

TEST_CASE("file modes are octal up to 0777") {
  CHECK(parse_file_mode("0600") == 0600u);
  CHECK(parse_file_mode("600") == 0600u);
  CHECK(parse_file_mode("0o640") == 0640u);
  CHECK(parse_file_mode("0") == 0u);
  CHECK(parse_file_mode("0777") == 0777u);
  CHECK_FALSE(parse_file_mode(""));
  CHECK_FALSE(parse_file_mode("0800"));
  CHECK_FALSE(parse_file_mode("1777"));
  CHECK_FALSE(parse_file_mode("rw"));
  CHECK_FALSE(parse_file_mode("00600"));
}

TEST_CASE("host:port addresses") {
  auto a = parse_host_port("127.0.0.1:9090");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9090);
  auto b = parse_host_port(":0");
  REQUIRE(b);
  CHECK(b->host.empty());
  CHECK(b->port == 0);
  auto c = parse_host_port("[::1]:8080");
  REQUIRE(c);
  CHECK(c->host == "::1");
  CHECK(c->port == 8080);
  CHECK(parse_host_port("metrics.local:1")->host == "metrics.local");
  CHECK_FALSE(parse_host_port("9090"));
  CHECK_FALSE(parse_host_port("host:"));
  CHECK_FALSE(parse_host_port("host:65536"));
  CHECK_FALSE(parse_host_port("host:http"));
  CHECK_FALSE(parse_host_port("::1:80"));
  CHECK_FALSE(parse_host_port("[::1]"));
  CHECK_FALSE(parse_host_port("a b:80"));
}

TEST_CASE("http urls") {
  auto u = parse_http_url("HTTPS://Api.Example.com:8443/base/");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "api.example.com");
  CHECK(u->port == "8443");
  CHECK(u->path == "/base");
  CHECK(to_string(*u) == "https://api.example.com:8443/base");
  CHECK(to_string(*parse_http_url("http://[::1]:80")) == "http://[::1]:80");
  CHECK(to_string(*parse_http_url("https://api.percipio.com/")) == "https://api.percipio.com");
  CHECK_FALSE(parse_http_url("api.percipio.com"));
  CHECK_FALSE(parse_http_url("ftp://x"));
  CHECK_FALSE(parse_http_url("https://"));
  CHECK_FALSE(parse_http_url("https://:443"));
  CHECK_FALSE(parse_http_url("https://user:pw@host"));
  CHECK_FALSE(parse_http_url("https://host?x=1"));
  CHECK_FALSE(parse_http_url("https://host#f"));
  CHECK_FALSE(parse_http_url("https://host:99999"));
  CHECK_FALSE(parse_http_url("https://ho st"));
}

TEST_CASE("loopback hosts") {
  CHECK(is_loopback_host("127.0.0.1"));
  CHECK(is_loopback_host("127.1.2.3"));
  CHECK(is_loopback_host("localhost"));
  CHECK(is_loopback_host("::1"));
  CHECK_FALSE(is_loopback_host("127.0.0.1.example.com"));
  CHECK_FALSE(is_loopback_host("128.0.0.1"));
  CHECK_FALSE(is_loopback_host("127.0.0.256"));
  CHECK_FALSE(is_loopback_host("example.com"));
}

TEST_CASE("comma lists are trimmed and drop empty items") {
  CHECK(split_list("") == std::vector<std::string>{});
  CHECK(split_list(" a , b,,c ,") == std::vector<std::string>{"a", "b", "c"});
  CHECK(split_list(",,") == std::vector<std::string>{});
}
