#pragma once
// Index entries in two forms:
//  * a sort key: bytes whose memcmp order is SQLite's order of the index (BINARY collation): each
//    column is 0x00 for NULL, or 0x01, the text with NUL bytes escaped as 00 FF, and 00 00; the
//    rowid ends it as 8 big-endian bytes with the sign bit flipped. Sorting and duplicate checks are
//    then plain memcmp.
//  * an SQLite record (file format 2.1): what an index b-tree cell holds.
#include <cstdint>
#include <string>
#include <string_view>

namespace bp::c1z::detail {

constexpr std::size_t rowid_key_bytes = 8;

void append_key_null(std::string& key);
void append_key_text(std::string& key, std::string_view text);
void append_key_rowid(std::string& key, std::int64_t rowid);

// The record of an index entry from its sort key (columns, then the rowid). schema_format 4 stores
// the integers 0 and 1 without a body (serial types 8 and 9), as SQLite does.
void key_to_record(std::string_view key, std::uint32_t schema_format, std::string& record);

// SQLite varint (file format 2.2): 1 to 9 bytes.
std::size_t put_varint(unsigned char* out, std::uint64_t v);
std::size_t varint_size(std::uint64_t v);

}  // namespace bp::c1z::detail
