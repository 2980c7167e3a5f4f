#pragma once
// Tolerant readers shared by the page parsers (private to the module).
#include <simdjson.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/percipio/error.hpp"

namespace bp::percipio::detail {

namespace od = simdjson::ondemand;

// A reusable per-thread copy of a body with the padding simdjson needs.
class padded_buffer {
 public:
  simdjson::padded_string_view load(std::string_view body) {
    const std::size_t need = body.size() + simdjson::SIMDJSON_PADDING;
    if (need > capacity_) {
      capacity_ = need + need / 4;
      data_ = std::make_unique<char[]>(capacity_);
    }
    if (!body.empty()) std::memcpy(data_.get(), body.data(), body.size());
    std::memset(data_.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    return simdjson::padded_string_view(data_.get(), body.size(), capacity_);
  }
  const char* data() const noexcept { return data_.get(); }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
};

// Per-thread parser and buffer for page parsing (pages are parsed synchronously, never across a
// co_await, so one per thread is enough).
struct thread_state {
  od::parser parser;
  padded_buffer buffer;
};
thread_state& local_state();

// Copies `in` with every invalid UTF-8 sequence (bad lead or continuation bytes, truncated,
// overlong, surrogate or above U+10FFFF) replaced by U+FFFD. Structural JSON bytes are ASCII, so
// the result has the same JSON structure. Upstream data is not always valid UTF-8; one bad name
// must not fail a page, and baton-sdk rejects invalid UTF-8 in protobuf strings.
std::string repair_utf8(std::string_view in);

// Decodes a JSON string token (with its quotes) that simdjson refuses because of a lone surrogate
// escape such as "\ud800": lone surrogates become U+FFFD, everything else decodes as usual.
bool decode_string_lenient(std::string_view token, std::string& out);

// True when a JSON string token holds a \u escape of a surrogate (D800-DFFF).
inline bool has_surrogate_escape(std::string_view token) noexcept {
  for (std::size_t i = token.find('\\'); i != std::string_view::npos && i + 2 < token.size();
       i = token.find('\\', i + 2)) {
    if (token[i + 1] == 'u' && (token[i + 2] == 'd' || token[i + 2] == 'D') && i + 3 < token.size()) {
      const char c = token[i + 3];
      if ((c >= '8' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) return true;
    }
  }
  return false;
}

// A scalar as text: strings as-is, numbers and booleans as their JSON text; null, objects and
// arrays give "" (type drift in a text field is not fatal).
inline simdjson::error_code read_text(od::value v, std::string& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::string: {
      // simdjson 3.0 fails the whole document on a lone surrogate escape: decode those ourselves
      // (the value is left unconsumed, which On-Demand skips).
      const std::string_view token = ascii::trim(v.raw_json_token());
      if (has_surrogate_escape(token)) {
        if (!decode_string_lenient(token, out)) return simdjson::STRING_ERROR;
        return simdjson::SUCCESS;
      }
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      out.assign(s);
      return simdjson::SUCCESS;
    }
    case od::json_type::number:
    case od::json_type::boolean: {
      out.assign(ascii::trim(v.raw_json_token()));
      return simdjson::SUCCESS;
    }
    default:
      out.clear();
      return simdjson::SUCCESS;
  }
}

inline simdjson::error_code read_optional_text(od::value v, std::optional<std::string>& out) {
  bool is_null = false;
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  if (t == od::json_type::null) {
    if (auto e = v.is_null().get(is_null)) return e;
    out.reset();
    return simdjson::SUCCESS;
  }
  std::string s;
  if (auto e = read_text(v, s)) return e;
  out = std::move(s);
  return simdjson::SUCCESS;
}

// Booleans also arrive as "true"/"false" strings or 0/1; anything else keeps the default.
inline simdjson::error_code read_bool(od::value v, bool& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::boolean:
      return v.get_bool().get(out);
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      if (ascii::iequals(s, "true") || s == "1") out = true;
      else if (ascii::iequals(s, "false") || s == "0") out = false;
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      const std::string_view raw = ascii::trim(v.raw_json_token());
      out = !(raw == "0" || raw == "0.0" || raw == "-0");
      return simdjson::SUCCESS;
    }
    default:
      return simdjson::SUCCESS;
  }
}

// "<context>: malformed JSON at byte N (CODE)".
failure json_failure(std::string_view context, simdjson::error_code e, std::size_t offset);
// Byte offset of the document's current position, or `fallback`.
std::size_t location_of(od::document& doc, const char* base, std::size_t fallback) noexcept;

}  // namespace bp::percipio::detail
