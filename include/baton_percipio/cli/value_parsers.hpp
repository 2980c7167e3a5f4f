#pragma once
// Parsers for the value syntaxes the command line accepts. Each returns nullopt for malformed input.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/net/url.hpp"

namespace bp::cli {

// 8-4-4-4-12 hex digits, either case.
bool is_uuid(std::string_view s);

// "30s", "90m", "6h", "3650d", "10y" (365 days), or several joined ("1h30m"). A unit is required.
std::optional<std::chrono::seconds> parse_duration(std::string_view s);

// Bytes: "1048576", or a number with K, M, G or T (powers of 1024; "KB"/"KiB" spellings too).
std::optional<std::uint64_t> parse_size(std::string_view s);

// Octal permission bits: "0600", "600" or "0o600"; at most 0777.
std::optional<unsigned> parse_file_mode(std::string_view s);

struct host_port {
  std::string host;  // without brackets for IPv6; may be empty (all interfaces)
  std::uint16_t port = 0;
};
// "HOST:PORT", "[::1]:PORT" or ":PORT".
std::optional<host_port> parse_host_port(std::string_view s);

struct http_url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case, without brackets
  std::string port;    // digits or empty
  std::string path;    // empty or starting with '/', trailing '/' removed
};
// Absolute http(s) URL without user info, query or fragment.
std::optional<http_url> parse_http_url(std::string_view s);
std::string to_string(const http_url& u);

// 127.0.0.0/8, ::1 and "localhost" (one definition, in net).
using net::is_loopback_host;

// Comma-separated list: items trimmed, empty items dropped.
std::vector<std::string> split_list(std::string_view s);

using ascii::trim;

}  // namespace bp::cli
