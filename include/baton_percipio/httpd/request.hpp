#pragma once
// One parsed HTTP/1.1 request as the server hands it to a handler.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/core/http_header.hpp"

namespace bp::httpd {

using http::header;
using http::header_list;
// Header names compare ASCII case-insensitively.
using ascii::iequals;

struct request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, "/a/b?x=1"
  std::string path;    // target up to '?', not percent-decoded
  std::string query;   // target after '?', without it ("" when none)
  header_list headers;
  std::string body;
  bool keep_alive = true;

  // First header with that name (case-insensitive), or nullptr.
  const std::string* find_header(std::string_view name) const;
  // Value of the header, or "" when absent.
  std::string_view header_value(std::string_view name) const;
};

// One query parameter as it appeared; `value` is percent-decoded, `present_empty` marks "k=" and "k".
struct query_param {
  std::string name;
  std::string value;
};
// Splits "a=1&b=&c" into parameters in order, percent-decoding names and values ('+' is a space).
std::vector<query_param> parse_query(std::string_view query);
std::string percent_decode(std::string_view s);

}  // namespace bp::httpd
