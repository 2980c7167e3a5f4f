#include "json_read.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

namespace bp::percipio::detail {
namespace {

const char* error_name(simdjson::error_code e) noexcept {
  using namespace simdjson;
  switch (e) {
    case SUCCESS: return "SUCCESS";
    case CAPACITY: return "CAPACITY";
    case MEMALLOC: return "MEMALLOC";
    case TAPE_ERROR: return "TAPE_ERROR";
    case DEPTH_ERROR: return "DEPTH_ERROR";
    case STRING_ERROR: return "STRING_ERROR";
    case T_ATOM_ERROR: return "T_ATOM_ERROR";
    case F_ATOM_ERROR: return "F_ATOM_ERROR";
    case N_ATOM_ERROR: return "N_ATOM_ERROR";
    case NUMBER_ERROR: return "NUMBER_ERROR";
    case UTF8_ERROR: return "UTF8_ERROR";
    case EMPTY: return "EMPTY";
    case UNESCAPED_CHARS: return "UNESCAPED_CHARS";
    case UNCLOSED_STRING: return "UNCLOSED_STRING";
    case INCORRECT_TYPE: return "INCORRECT_TYPE";
    case NUMBER_OUT_OF_RANGE: return "NUMBER_OUT_OF_RANGE";
    case INDEX_OUT_OF_BOUNDS: return "INDEX_OUT_OF_BOUNDS";
    case NO_SUCH_FIELD: return "NO_SUCH_FIELD";
    case OUT_OF_ORDER_ITERATION: return "OUT_OF_ORDER_ITERATION";
    case INSUFFICIENT_PADDING: return "INSUFFICIENT_PADDING";
    case INCOMPLETE_ARRAY_OR_OBJECT: return "INCOMPLETE_ARRAY_OR_OBJECT";
    case SCALAR_DOCUMENT_AS_VALUE: return "SCALAR_DOCUMENT_AS_VALUE";
    case OUT_OF_BOUNDS: return "OUT_OF_BOUNDS";
    case TRAILING_CONTENT: return "TRAILING_CONTENT";
    default: return "JSON_ERROR";
  }
}

}  // namespace

std::string repair_utf8(std::string_view in) {
  static constexpr char replacement[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(in.size() + 16);
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    }
    bool ok = n > 0;
    for (std::size_t k = 1; ok && k <= n; ++k) {
      if (i + k >= in.size()) {
        ok = false;
        break;
      }
      const auto cc = static_cast<unsigned char>(in[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (ok) {
      out.append(in.substr(i, n + 1));
      i += n + 1;
    } else {
      out.append(replacement, 3);
      ++i;  // resynchronise on the next byte
      while (i < in.size() && (static_cast<unsigned char>(in[i]) & 0xC0) == 0x80) ++i;
    }
  }
  return out;
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Four hex digits at s[i..i+4); nullopt when not hex.
std::optional<std::uint32_t> hex4(std::string_view s, std::size_t i) {
  if (i + 4 > s.size()) return std::nullopt;
  std::uint32_t v = 0;
  for (std::size_t k = i; k < i + 4; ++k) {
    const char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
    else return std::nullopt;
  }
  return v;
}

}  // namespace

bool decode_string_lenient(std::string_view token, std::string& out) {
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
  const std::string_view s = token.substr(1, token.size() - 2);
  out.clear();
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      out.push_back(s[i++]);
      continue;
    }
    if (i + 1 >= s.size()) return false;
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        auto v = hex4(s, i);
        if (!v) return false;
        i += 4;
        std::uint32_t cp = *v;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate needs a low one right after it.
          std::optional<std::uint32_t> lo;
          if (i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') lo = hex4(s, i + 2);
          if (lo && *lo >= 0xDC00 && *lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (*lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;
        }
        append_utf8(out, cp);
        break;
      }
      default: return false;
    }
  }
  return true;
}

thread_state& local_state() {
  thread_local thread_state s;
  return s;
}

failure json_failure(std::string_view context, simdjson::error_code e, std::size_t offset) {
  return make_failure(errc::malformed_response,
                      fmt::format("{}: malformed JSON at byte {} ({})", context, offset, error_name(e)));
}

std::size_t location_of(od::document& doc, const char* base, std::size_t fallback) noexcept {
  const char* p = nullptr;
  if (doc.current_location().get(p) || p == nullptr || p < base) return fallback;
  return static_cast<std::size_t>(p - base);
}

}  // namespace bp::percipio::detail
