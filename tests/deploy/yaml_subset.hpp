#pragma once
// A reader for the YAML our manifests use, no more: block mappings and sequences by indentation,
// "- key: value" items, plain/single/double-quoted scalars, flow sequences of scalars ([a, "b"]),
// empty flow mappings ({}), comments and a leading "---". Anything else throws, so a manifest that
// drifts outside the subset fails the test instead of being misread.
#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bp::test::yaml {

struct node {
  enum class kind { scalar, map, seq };
  kind k = kind::scalar;
  std::string value;                                             // scalar
  std::vector<std::pair<std::string, node>> entries;             // map, in order
  std::vector<node> items;                                       // seq

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

struct line {
  std::size_t no;      // 1-based, for messages
  std::size_t indent;  // leading spaces
  std::string text;    // without indentation and comment
};

[[noreturn]] inline void fail(const line& l, const std::string& what) {
  throw std::runtime_error("yaml line " + std::to_string(l.no) + ": " + what + ": " + l.text);
}

// Removes a comment: '#' at the start or after a space, outside quotes.
inline std::string strip_comment(std::string_view s) {
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == '\\' && quote == '"') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (i == 0 || s[i - 1] == ' ')) {
      s = s.substr(0, i);
      break;
    }
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

inline std::vector<line> split_lines(std::string_view text) {
  std::vector<line> out;
  std::size_t no = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    ++no;
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    if (raw.find('\t') != std::string_view::npos && raw.find_first_not_of(" \t") < raw.find('\t'))
      throw std::runtime_error("yaml line " + std::to_string(no) + ": tab in indentation");
    std::size_t indent = raw.find_first_not_of(' ');
    if (indent == std::string_view::npos) continue;
    std::string body = strip_comment(raw.substr(indent));
    if (body.empty()) continue;
    if (out.empty() && body == "---") continue;
    out.push_back({no, indent, std::move(body)});
  }
  return out;
}

inline std::string unquote(const line& l, std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\') {
        ++i;
        if (i + 1 >= s.size()) fail(l, "bad escape");
        char e = s[i];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;  // \" \\ \/ and the common ones
      } else {
        out += s[i];
      }
    }
    return out;
  }
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      out += s[i];
      if (s[i] == '\'' && s[i + 1] == '\'') ++i;
    }
    return out;
  }
  if (!s.empty() && (s.front() == '"' || s.front() == '\'')) fail(l, "unterminated quote");
  for (char c : {'&', '*', '!', '|', '>', '%', '@', '`'}) {
    if (!s.empty() && s.front() == c) fail(l, "unsupported YAML feature");
  }
  return std::string(s);
}

inline node scalar_or_flow(const line& l, std::string_view v) {
  node n;
  if (v == "{}") {
    n.k = node::kind::map;
    return n;
  }
  if (!v.empty() && v.front() == '{') fail(l, "flow mappings other than {} are unsupported");
  if (!v.empty() && v.front() == '[') {
    if (v.back() != ']') fail(l, "unterminated flow sequence");
    n.k = node::kind::seq;
    std::string_view inner = v.substr(1, v.size() - 2);
    std::size_t start = 0;
    char quote = 0;
    auto push = [&](std::string_view item) {
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item.empty()) fail(l, "empty flow sequence item");
      if (item.front() == '[' || item.front() == '{') fail(l, "nested flow collections are unsupported");
      node s;
      s.value = unquote(l, item);
      n.items.push_back(std::move(s));
    };
    if (inner.find_first_not_of(' ') == std::string_view::npos) return n;
    for (std::size_t i = 0; i < inner.size(); ++i) {
      char c = inner[i];
      if (quote) {
        if (c == '\\' && quote == '"') ++i;
        else if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == ',') {
        push(inner.substr(start, i - start));
        start = i + 1;
      }
    }
    push(inner.substr(start));
    return n;
  }
  n.value = unquote(l, v);
  return n;
}

// "key: value" or "key:"; the key may not be quoted or contain ": ".
inline std::pair<std::string, std::string> split_key(const line& l, std::string_view s) {
  std::size_t colon = s.find(": ");
  if (colon == std::string_view::npos) {
    if (s.back() != ':') fail(l, "expected 'key: value'");
    colon = s.size() - 1;
  }
  std::string key(s.substr(0, colon));
  if (key.empty() || key.front() == '"' || key.front() == '\'' || key.find(' ') != std::string::npos)
    fail(l, "unsupported key");
  std::string_view rest = colon + 1 < s.size() ? s.substr(colon + 2) : std::string_view{};
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return {std::move(key), std::string(rest)};
}

class parser {
 public:
  explicit parser(std::vector<line> lines) : lines_(std::move(lines)) {}

  node document() {
    if (lines_.empty()) return node{node::kind::map, {}, {}, {}};
    node n = block(lines_[0].indent);
    if (i_ != lines_.size()) fail(lines_[i_], "unexpected indentation");
    return n;
  }

 private:
  static bool is_item(const std::string& t) { return t == "-" || t.starts_with("- "); }

  node block(std::size_t indent) {
    return is_item(lines_[i_].text) ? sequence(indent) : mapping(indent);
  }

  node sequence(std::size_t indent) {
    node n;
    n.k = node::kind::seq;
    while (i_ < lines_.size() && lines_[i_].indent == indent && is_item(lines_[i_].text)) {
      line& l = lines_[i_];
      if (l.text == "-") {
        ++i_;
        if (i_ >= lines_.size() || lines_[i_].indent <= indent) fail(l, "empty sequence item");
        n.items.push_back(block(lines_[i_].indent));
        continue;
      }
      // "- rest": rest is read as if it began on its own line at its own column.
      std::size_t off = l.text.find_first_not_of(' ', 1);
      std::string rest = l.text.substr(off);
      if (rest.find(": ") != std::string::npos || rest.back() == ':') {
        l.indent += off;
        l.text = rest;
        n.items.push_back(mapping(l.indent));
      } else {
        n.items.push_back(scalar_or_flow(l, rest));
        ++i_;
      }
    }
    return n;
  }

  node mapping(std::size_t indent) {
    node n;
    n.k = node::kind::map;
    while (i_ < lines_.size() && lines_[i_].indent == indent) {
      const line& l = lines_[i_];
      if (is_item(l.text)) fail(l, "sequence item inside a mapping");
      auto [key, value] = split_key(l, l.text);
      if (n.find(key)) fail(l, "duplicate key '" + key + "'");
      ++i_;
      if (!value.empty()) {
        n.entries.emplace_back(key, scalar_or_flow(l, value));
      } else if (i_ < lines_.size() && lines_[i_].indent > indent) {
        n.entries.emplace_back(key, block(lines_[i_].indent));
      } else if (i_ < lines_.size() && lines_[i_].indent == indent && is_item(lines_[i_].text)) {
        n.entries.emplace_back(key, sequence(indent));  // "key:\n- a" at the key's own column
      } else {
        n.entries.emplace_back(key, node{});  // null: an empty scalar
      }
    }
    if (i_ < lines_.size() && lines_[i_].indent > indent) fail(lines_[i_], "unexpected indentation");
    return n;
  }

  std::vector<line> lines_;
  std::size_t i_ = 0;
};

}  // namespace detail

inline node parse(std::string_view text) { return detail::parser(detail::split_lines(text)).document(); }

}  // namespace bp::test::yaml
