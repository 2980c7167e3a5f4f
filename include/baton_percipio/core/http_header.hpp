#pragma once
// One HTTP header field, as both the client (bp::net) and the server (bp::httpd) hold it, and the
// case-insensitive lookup of a field by name.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/core/ascii.hpp"

namespace bp::http {

struct header {
  std::string name;
  std::string value;
};
using header_list = std::vector<header>;

// The value of the first field with that name (ASCII case-insensitive), or nullopt.
inline std::optional<std::string_view> find_header(std::span<const header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (ascii::iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

}  // namespace bp::http
