#pragma once
// Reads a JSON object whose members the fake only needs as strings or integers (JWS header, JWT
// claims, JWK). Nested values are kept as "other" so a check can reject them by type.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bp::fake_c1::detail {

struct json_scalar {
  enum class kind { string, integer, other };
  kind k = kind::other;
  std::string text;  // kind::string
  std::int64_t number = 0;  // kind::integer
};
using flat_object = std::map<std::string, json_scalar, std::less<>>;

// nullopt when `json` is not one JSON object or repeats a member name.
std::optional<flat_object> parse_flat_object(std::string_view json);

const std::string* find_string(const flat_object& o, std::string_view key);
std::optional<std::int64_t> find_integer(const flat_object& o, std::string_view key);

}  // namespace bp::fake_c1::detail
