#pragma once
// Minimal protobuf wire-format appenders used by the record encoders.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace bp::c1z::wire {

inline constexpr std::uint32_t varint_type = 0;
inline constexpr std::uint32_t fixed64_type = 1;
inline constexpr std::uint32_t len_type = 2;

inline std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  std::size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

inline void put_tag(std::string& out, std::uint32_t field, std::uint32_t type) { put_varint(out, (field << 3) | type); }

// True when s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s);
// s with invalid sequences replaced by U+FFFD.
std::string repair_utf8(std::string_view s);

// Length-delimited raw bytes (already-encoded sub-message or bytes field), written even when empty.
inline void put_len(std::string& out, std::uint32_t field, std::string_view bytes) {
  put_tag(out, field, len_type);
  put_varint(out, bytes.size());
  out.append(bytes);
}

// proto3 string field: skipped when empty (default value), repaired to valid UTF-8.
inline void put_string(std::string& out, std::uint32_t field, std::string_view s) {
  if (s.empty()) return;
  if (valid_utf8(s)) {
    put_len(out, field, s);
  } else {
    put_len(out, field, repair_utf8(s));
  }
}

inline void put_uint(std::string& out, std::uint32_t field, std::uint64_t v) {
  if (v == 0) return;
  put_tag(out, field, varint_type);
  put_varint(out, v);
}

inline void put_double(std::string& out, std::uint32_t field, double d) {
  put_tag(out, field, fixed64_type);
  std::uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
  out.append(b, 8);
}

}  // namespace bp::c1z::wire
