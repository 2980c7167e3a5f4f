#include "index_key.hpp"

#include <cstring>
#include <stdexcept>

namespace bp::c1z::detail {

void append_key_null(std::string& key) { key.push_back('\x00'); }

void append_key_text(std::string& key, std::string_view text) {
  key.push_back('\x01');
  std::size_t from = 0;
  for (std::size_t nul; (nul = text.find('\0', from)) != std::string_view::npos; from = nul + 1) {
    key.append(text.substr(from, nul - from)).append("\x00\xff", 2);
  }
  key.append(text.substr(from)).append("\x00\x00", 2);
}

void append_key_rowid(std::string& key, std::int64_t rowid) {
  const std::uint64_t u = static_cast<std::uint64_t>(rowid) ^ (std::uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((u >> shift) & 0xff));
}

std::size_t varint_size(std::uint64_t v) {
  if (v > 0x00ffffffffffffffULL) return 9;
  std::size_t n = 1;
  while (v >>= 7) ++n;
  return n;
}

std::size_t put_varint(unsigned char* out, std::uint64_t v) {
  if (v > 0x00ffffffffffffffULL) {  // 8 groups of 7 bits, then a whole byte
    out[8] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
    for (int i = 7; i >= 0; --i, v >>= 7) out[i] = static_cast<unsigned char>((v & 0x7f) | 0x80);
    return 9;
  }
  const std::size_t n = varint_size(v);
  for (std::size_t i = n; i-- > 0; v >>= 7) out[i] = static_cast<unsigned char>((v & 0x7f) | (i + 1 < n ? 0x80 : 0));
  return n;
}

namespace {

struct column {
  bool null = true;
  std::string_view escaped;  // the text as stored in the key (NUL bytes escaped)
  std::size_t length = 0;    // unescaped
};

// Serial type and body size of the rowid (file format 2.1).
std::uint64_t int_serial_type(std::int64_t v, std::uint32_t schema_format, std::size_t& body) {
  if (schema_format >= 4 && (v == 0 || v == 1)) {
    body = 0;
    return v == 0 ? 8 : 9;
  }
  const std::uint64_t u = v < 0 ? ~static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  if (u <= 127) return body = 1, 1;
  if (u <= 32767) return body = 2, 2;
  if (u <= 8388607) return body = 3, 3;
  if (u <= 2147483647) return body = 4, 4;
  if (u <= 140737488355327ULL) return body = 6, 5;
  return body = 8, 6;
}

}  // namespace

void key_to_record(std::string_view key, std::uint32_t schema_format, std::string& record) {
  if (key.size() < rowid_key_bytes) throw std::logic_error("index key without rowid");
  column cols[16];
  std::size_t ncols = 0;
  std::size_t pos = 0;
  const std::size_t end = key.size() - rowid_key_bytes;
  while (pos < end) {
    if (ncols == std::size(cols)) throw std::logic_error("index key with too many columns");
    column& c = cols[ncols++];
    if (key[pos++] == '\x00') continue;
    c.null = false;
    const std::size_t start = pos;
    std::size_t escapes = 0;
    for (;;) {  // up to the 00 00 terminator; 00 FF is an escaped NUL
      const std::size_t z = key.find('\0', pos);
      if (z == std::string_view::npos || z + 1 >= end) throw std::logic_error("malformed index key");
      pos = z + 2;
      if (key[z + 1] == '\x00') {
        c.escaped = key.substr(start, z - start);
        break;
      }
      ++escapes;
    }
    c.length = c.escaped.size() - escapes;
  }
  std::uint64_t u = 0;
  for (std::size_t i = 0; i < rowid_key_bytes; ++i) u = (u << 8) | static_cast<unsigned char>(key[end + i]);
  const auto rowid = static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63));

  std::size_t rowid_body = 0;
  const std::uint64_t rowid_type = int_serial_type(rowid, schema_format, rowid_body);
  std::size_t types_bytes = varint_size(rowid_type);
  std::size_t body_bytes = rowid_body;
  for (std::size_t i = 0; i < ncols; ++i) {
    types_bytes += cols[i].null ? 1 : varint_size(2 * cols[i].length + 13);
    body_bytes += cols[i].length;
  }
  // The header's size counts its own varint.
  std::size_t header_bytes = types_bytes + 1;
  while (varint_size(header_bytes) + types_bytes != header_bytes) header_bytes = varint_size(header_bytes) + types_bytes;
  record.resize(header_bytes + body_bytes);
  auto* out = reinterpret_cast<unsigned char*>(record.data());
  std::size_t h = put_varint(out, header_bytes);
  for (std::size_t i = 0; i < ncols; ++i) h += put_varint(out + h, cols[i].null ? 0 : 2 * cols[i].length + 13);
  put_varint(out + h, rowid_type);
  std::size_t b = header_bytes;
  for (std::size_t i = 0; i < ncols; ++i) {
    std::string_view e = cols[i].escaped;
    for (std::size_t nul; (nul = e.find('\0')) != std::string_view::npos; e.remove_prefix(nul + 2)) {
      std::memcpy(out + b, e.data(), nul + 1);  // 00 FF back to one NUL
      b += nul + 1;
    }
    if (!e.empty()) std::memcpy(out + b, e.data(), e.size());  // a NULL's view has no data pointer
    b += e.size();
  }
  const auto r = static_cast<std::uint64_t>(rowid);
  for (std::size_t i = 0; i < rowid_body; ++i) out[b + i] = static_cast<unsigned char>(r >> (8 * (rowid_body - 1 - i)));
}

}  // namespace bp::c1z::detail
