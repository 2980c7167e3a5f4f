#include "flat_json.hpp"

#include <simdjson.h>

namespace bp::fake_c1::detail {

std::optional<flat_object> parse_flat_object(std::string_view json) {
  // The DOM parser validates the whole document (trailing bytes included); these inputs are tiny.
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return std::nullopt;
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return std::nullopt;
  flat_object out;
  for (auto [key, value] : obj) {
    std::string name(key);
    if (out.count(name) != 0) return std::nullopt;
    json_scalar v;
    if (value.is_string()) {
      v.k = json_scalar::kind::string;
      v.text = std::string(value.get_string().value_unsafe());
    } else if (value.is_int64()) {
      v.k = json_scalar::kind::integer;
      v.number = value.get_int64().value_unsafe();
    }
    out.emplace(std::move(name), std::move(v));
  }
  return out;
}

const std::string* find_string(const flat_object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->second.k != json_scalar::kind::string) return nullptr;
  return &it->second.text;
}

std::optional<std::int64_t> find_integer(const flat_object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->second.k != json_scalar::kind::integer) return std::nullopt;
  return it->second.number;
}

}  // namespace bp::fake_c1::detail
