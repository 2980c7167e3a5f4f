#include "baton_percipio/core/json_writer.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace bp::json {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid.
std::size_t utf8_len(std::string_view s, std::size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b == 0xED && b1 > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b == 0xF0 && b1 < 0x90) return 0;
    if (b == 0xF4 && b1 > 0x8F) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
      ++i;
      continue;
    }
    std::size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  out.push_back('"');
}

void writer::newline() {
  if (indent_ <= 0) return;
  out_.push_back('\n');
  out_.append(static_cast<std::size_t>(depth_ * indent_), ' ');
}

void writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0) {
    if (!first_) out_.push_back(',');
    newline();
  }
  first_ = false;
}

writer& writer::begin_object() {
  before_value();
  out_.push_back('{');
  ++depth_;
  first_ = true;
  return *this;
}

writer& writer::end_object() {
  --depth_;
  if (!first_) newline();
  out_.push_back('}');
  first_ = false;
  return *this;
}

writer& writer::begin_array() {
  before_value();
  out_.push_back('[');
  ++depth_;
  first_ = true;
  return *this;
}

writer& writer::end_array() {
  --depth_;
  if (!first_) newline();
  out_.push_back(']');
  first_ = false;
  return *this;
}

writer& writer::key(std::string_view k) {
  before_value();
  append_string(out_, k);
  out_ += indent_ > 0 ? ": " : ":";
  after_key_ = true;
  return *this;
}

writer& writer::value(std::string_view v) {
  before_value();
  append_string(out_, v);
  return *this;
}

writer& writer::value(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

writer& writer::value(std::int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

writer& writer::value(std::uint64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

writer& writer::value(double v) {
  before_value();
  if (!std::isfinite(v)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  // Prefer the shortest representation that round-trips.
  for (int prec = 1; prec <= 17; ++prec) {
    char tmp[32];
    int m = std::snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (std::strtod(tmp, nullptr) == v) {
      out_.append(tmp, static_cast<std::size_t>(m));
      return *this;
    }
  }
  out_.append(buf, static_cast<std::size_t>(n));
  return *this;
}

writer& writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

writer& writer::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

}  // namespace bp::json
