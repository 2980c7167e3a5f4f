#pragma once
// A small streaming JSON writer for logs, summaries and CLI output (no DOM, no allocation per value).
#include <cstdint>
#include <string>
#include <string_view>

namespace bp::json {

// Appends s to out as a JSON string literal (quotes included). Invalid UTF-8 bytes become U+FFFD.
void append_string(std::string& out, std::string_view s);

class writer {
 public:
  explicit writer(std::string& out, int indent = 0) : out_(out), indent_(indent) {}
  writer& begin_object();
  writer& end_object();
  writer& begin_array();
  writer& end_array();
  writer& key(std::string_view k);
  writer& value(std::string_view v);
  writer& value(const char* v) { return value(std::string_view(v)); }
  writer& value(bool v);
  writer& value(std::int64_t v);
  writer& value(std::uint64_t v);
  writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  writer& value(double v);
  writer& null();
  // Inserts already-serialized JSON as one value.
  writer& raw(std::string_view json);

 private:
  void before_value();
  void newline();
  std::string& out_;
  int indent_;
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace bp::json
