#pragma once
// The manifests as plain trees: yaml-cpp parses, and the result is copied into `node` (mappings in
// document order, sequences, scalars as text) so the tests read paths like "spec.template.metadata".
// A duplicate key, which YAML forbids but yaml-cpp accepts, is an error.
#include <yaml-cpp/yaml.h>

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bp::test::yaml {

struct node {
  enum class kind { scalar, map, seq };
  kind k = kind::scalar;
  std::string value;                                  // scalar ("" for null)
  std::vector<std::pair<std::string, node>> entries;  // map, in order
  std::vector<node> items;                            // seq

  bool is_map() const { return k == kind::map; }
  bool is_seq() const { return k == kind::seq; }
  bool is_scalar() const { return k == kind::scalar; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  const node* find(std::string_view key) const {
    if (k != kind::map) return nullptr;
    for (const auto& [name, child] : entries)
      if (name == key) return &child;
    return nullptr;
  }
  // The child at a dotted path ("spec.template.metadata"); throws when missing.
  const node& at(std::string_view path) const {
    const node* cur = this;
    while (!path.empty()) {
      std::size_t dot = path.find('.');
      std::string_view key = path.substr(0, dot);
      const node* next = cur->find(key);
      if (!next) throw std::runtime_error("yaml: no key '" + std::string(key) + "'");
      cur = next;
      path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    return *cur;
  }
  const std::string& str(std::string_view path = {}) const {
    const node& n = at(path);
    if (!n.is_scalar()) throw std::runtime_error("yaml: '" + std::string(path) + "' is not a scalar");
    return n.value;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.first);
    return out;
  }
};

namespace detail {

inline node convert(const YAML::Node& y) {
  node n;
  switch (y.Type()) {
    case YAML::NodeType::Map: {
      n.k = node::kind::map;
      std::set<std::string> seen;
      for (const auto& kv : y) {
        auto key = kv.first.as<std::string>();
        if (!seen.insert(key).second) throw std::runtime_error("yaml: duplicate key '" + key + "'");
        n.entries.emplace_back(std::move(key), convert(kv.second));
      }
      break;
    }
    case YAML::NodeType::Sequence:
      n.k = node::kind::seq;
      for (const auto& item : y) n.items.push_back(convert(item));
      break;
    case YAML::NodeType::Scalar: n.value = y.Scalar(); break;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: break;
  }
  return n;
}

}  // namespace detail

// Throws on malformed YAML (YAML::Exception) and on duplicate keys.
inline node parse(std::string_view text) { return detail::convert(YAML::Load(std::string(text))); }

}  // namespace bp::test::yaml
