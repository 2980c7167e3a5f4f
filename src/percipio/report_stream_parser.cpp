#include "baton_percipio/percipio/report_stream_parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "json_read.hpp"
#include "structural_scanner.hpp"

namespace bp::percipio {

using namespace detail;

namespace {
constexpr std::size_t block = 64;
inline bool is_ws(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
}  // namespace

struct report_stream_parser::impl {
  enum class phase { before_array, in_array, after_array };

  row_sink sink;
  std::string context;
  options opts;
  stats* st;
  scan_fn scanner;

  // Unconsumed input: buf[0, len) starts at absolute offset `base`. The allocation always has
  // `block + SIMDJSON_PADDING` spare bytes after len.
  std::unique_ptr<char[]> buf;
  std::size_t cap = 0;
  std::size_t len = 0;
  std::uint64_t base = 0;

  phase ph = phase::before_array;
  std::size_t scan = 0;  // next byte to scan
  scan_carry carry;
  std::uint32_t depth = 0;      // 0 = directly inside the top-level array
  std::size_t block_begin = 0;  // first byte not yet handed to simdjson
  std::size_t complete_end = 0; // end of the last complete row
  std::size_t gap_start = 0;    // start of the bytes after the last element (or after '[')
  std::size_t obj_start = 0;    // start of the row being scanned (depth > 0)
  std::size_t after_check = 0;  // after_array: bytes before this are verified whitespace
  bool need_comma = false;
  std::vector<std::pair<std::size_t, std::size_t>> objects;  // per_object strategy: complete rows

  std::vector<report_row> rows;
  od::parser parser;
  simdjson::padded_string repaired;  // a row or block with its invalid UTF-8 replaced
  std::optional<failure> failed;

  impl(row_sink s, std::string ctx, options o, stats* stp)
      : sink(std::move(s)), context(std::move(ctx)), opts(o), st(stp),
        scanner(o.force_scalar_scanner ? portable_scanner() : best_scanner()) {
    if (opts.block_bytes < 4096) opts.block_bytes = 4096;
    if (opts.batch_rows == 0) opts.batch_rows = 1;
    rows.reserve(opts.batch_rows);
  }

  void reset() {
    len = 0;
    base = 0;
    ph = phase::before_array;
    scan = 0;
    carry = {};
    depth = 0;
    block_begin = complete_end = gap_start = obj_start = after_check = 0;
    need_comma = false;
    objects.clear();
    rows.clear();
    failed.reset();
  }

  failure fail(std::size_t pos, std::string_view what) {
    failed = make_failure(errc::malformed_response, fmt::format("{}: {} at byte {}", context, what, base + pos));
    return *failed;
  }

  void append(std::string_view chunk) {
    const std::size_t need = len + chunk.size() + block + simdjson::SIMDJSON_PADDING;
    if (need > cap) {
      std::size_t ncap = std::max(need, cap + cap / 2);
      auto nbuf = std::make_unique<char[]>(ncap);
      if (len) std::memcpy(nbuf.get(), buf.get(), len);
      std::memset(nbuf.get() + len, ' ', ncap - len);
      buf = std::move(nbuf);
      cap = ncap;
    }
    if (!chunk.empty()) std::memcpy(buf.get() + len, chunk.data(), chunk.size());
    len += chunk.size();
  }

  // Bytes between elements: whitespace and exactly one comma between two rows. Commas are blanked
  // so that simdjson sees whitespace-separated documents.
  bool check_gap(std::size_t from, std::size_t to, bool closing) {
    std::optional<std::size_t> comma;
    for (std::size_t i = from; i < to; ++i) {
      const char c = buf[i];
      if (is_ws(c)) continue;
      if (c == ',' && need_comma && !comma) {
        comma = i;
        buf[i] = ' ';
        continue;
      }
      if (c == ',') {
        fail(i, "unexpected ',' in report array");
        return false;
      }
      fail(i, "report array element is not an object");
      return false;
    }
    if (closing && comma) {
      fail(*comma, "trailing ',' in report array");
      return false;
    }
    if (!closing && need_comma && !comma) {
      fail(to, "expected ',' between report rows");
      return false;
    }
    return true;
  }

  bool on_open(std::size_t pos) {
    if (depth == 0) {
      if (buf[pos] != '{') {
        fail(pos, "report array element is not an object");
        return false;
      }
      if (!check_gap(gap_start, pos, false)) return false;
      obj_start = pos;
    }
    ++depth;
    return true;
  }

  bool on_close(std::size_t pos) {
    if (depth > 1) {
      --depth;
      return true;
    }
    if (depth == 1) {
      if (buf[pos] != '}') {
        fail(pos, "mismatched ']' in report row");
        return false;
      }
      depth = 0;
      complete_end = pos + 1;
      gap_start = pos + 1;
      need_comma = true;
      if (opts.parse_strategy == strategy::per_object) objects.emplace_back(obj_start, pos + 1);
      return true;
    }
    if (buf[pos] != ']') {
      fail(pos, "unexpected '}' in report array");
      return false;
    }
    if (!check_gap(gap_start, pos, true)) return false;
    ph = phase::after_array;
    after_check = pos + 1;
    return true;
  }

  // Scans whole 64-byte blocks in [scan, limit).
  bool scan_blocks(std::size_t limit) {
    while (ph == phase::in_array && scan + block <= limit) {
      const block_events ev = scanner(buf.get() + scan, carry);
      std::uint64_t any = ev.open | ev.close;
      while (any) {
        const int i = __builtin_ctzll(any);
        const std::uint64_t bit = std::uint64_t{1} << i;
        const std::size_t pos = scan + static_cast<std::size_t>(i);
        if (!((ev.open & bit) ? on_open(pos) : on_close(pos))) return false;
        if (ph != phase::in_array) break;
        any &= any - 1;
      }
      scan += block;
    }
    return true;
  }

  result<void> process(bool final) {
    if (ph == phase::before_array) {
      if (scan == 0 && len >= 3 && std::memcmp(buf.get(), "\xEF\xBB\xBF", 3) == 0) scan = 3;
      while (scan < len && is_ws(buf[scan])) ++scan;
      if (scan == len) {
        if (final) return fail(len, "empty report body");
        return {};
      }
      if (buf[scan] != '[') return fail(scan, "expected '[' (a report array)");
      ++scan;
      ph = phase::in_array;
      block_begin = complete_end = gap_start = scan;
    }
    if (ph == phase::in_array) {
      if (!scan_blocks(len)) return *failed;
      if (final && ph == phase::in_array && scan < len) {
        // The tail shorter than a block: scan it with space padding (spaces change no state).
        std::memset(buf.get() + len, ' ', block);
        if (!scan_blocks(scan + block)) return *failed;
      }
    }
    if (ph == phase::after_array) {
      for (std::size_t i = after_check; i < len; ++i)
        if (!is_ws(buf[i])) return fail(i, "unexpected data after the report array");
      after_check = len;
    }
    if (ph == phase::in_array && depth > 0 && len - obj_start > opts.max_row_bytes)
      return fail(obj_start, "report row larger than the row limit");
    if (complete_end - block_begin >= opts.block_bytes || final || ph == phase::after_array) {
      if (auto r = parse_block(); !r) return r;
    }
    if (final) {
      if (ph == phase::in_array) {
        if (depth > 0)
          return fail(len, fmt::format("truncated report: input ended inside the row that began at byte {}",
                                       base + obj_start));
        return fail(len, "truncated report: input ended before the closing ']'");
      }
      flush_rows();
    }
    return {};
  }

  void flush_rows() {
    if (rows.empty()) return;
    st->rows += rows.size();
    sink(std::span<const report_row>(rows.data(), rows.size()));
    rows.clear();
  }

  // Reads one row object; a row without usable ids is counted as skipped.
  simdjson::error_code parse_row(od::object obj) {
    report_row row;
    bool have_user = false, have_content = false, have_status = false;
    for (auto fr : obj) {
      od::field f;
      if (auto e = std::move(fr).get(f)) return e;
      const od::raw_json_string k = f.key();
      const char c0 = *k.raw();
      if (c0 == 'u' && !have_user && k.unsafe_is_equal("userUuid")) {
        have_user = true;
        if (auto e = read_uuid(f.value(), row.user, have_user)) return e;
        if (!have_user) break;  // unusable id: skip the row
      } else if (c0 == 'c' && !have_content && k.unsafe_is_equal("contentUuid")) {
        have_content = true;
        if (auto e = read_uuid(f.value(), row.content, have_content)) return e;
        if (!have_content) break;
      } else if (c0 == 's' && !have_status && k.unsafe_is_equal("status")) {
        have_status = true;
        std::string_view s;
        auto e = f.value().get_string().get(s);
        if (e == simdjson::SUCCESS) row.status = parse_activity_status(s);
        else if (e != simdjson::INCORRECT_TYPE) return e;
      } else {
        continue;
      }
      if (have_user && have_content && have_status) break;
    }
    if (have_user && have_content) {
      rows.push_back(row);
      if (rows.size() >= opts.batch_rows) flush_rows();
    } else {
      ++st->skipped_rows;
    }
    return simdjson::SUCCESS;
  }

  static simdjson::error_code read_uuid(od::value v, uuid& out, bool& ok) {
    od::raw_json_string rs;
    auto e = v.get_raw_json_string().get(rs);
    if (e == simdjson::INCORRECT_TYPE) {
      ok = false;  // null or a number
      return simdjson::SUCCESS;
    }
    if (e) return e;
    // The buffer has padding after every row, so looking 36 bytes ahead stays in bounds; parse()
    // rejects anything but 36 id characters followed by the closing quote.
    const char* p = rs.raw();
    auto u = p[36] == '"' ? uuid::parse(std::string_view(p, 36)) : std::nullopt;
    if (!u) {
      ok = false;
      return simdjson::SUCCESS;
    }
    out = *u;
    return simdjson::SUCCESS;
  }

  result<void> parse_block() {
    const std::size_t n = complete_end - block_begin;
    if (n > 0) {
      if (opts.parse_strategy == strategy::iterate_many) {
        if (auto r = parse_many(block_begin, n); !r) return r;
      } else {
        for (const auto& [b, e] : objects) {
          od::document doc;
          auto err = parser.iterate(simdjson::padded_string_view(buf.get() + b, e - b, cap - b)).get(doc);
          if (err == simdjson::UTF8_ERROR) {
            // Invalid UTF-8 in some field of this row (nothing of it was parsed yet): use a repaired copy.
            repaired = simdjson::padded_string(repair_utf8(std::string_view(buf.get() + b, e - b)));
            err = parser.iterate(repaired).get(doc);
          }
          od::object o;
          if (!err) err = doc.get_object().get(o);
          if (!err) err = parse_row(o);
          if (err) return failed = json_failure(context, err, base + b), *failed;
        }
        objects.clear();
      }
    }
    block_begin = complete_end;
    flush_rows();
    compact();
    return {};
  }

  result<void> parse_many(std::size_t from, std::size_t n) {
    std::size_t batch = 1 << 20;
    while (batch < n) batch <<= 1;
    const char* data = buf.get() + from;
    if (!simdjson::validate_utf8(data, n)) {
      // Rows with invalid UTF-8 in some field: parse a repaired copy of the block instead (offsets
      // in error messages then refer to the copy).
      repaired = simdjson::padded_string(repair_utf8(std::string_view(data, n)));
      data = repaired.data();
      n = repaired.size();
      while (batch < n) batch <<= 1;
    }
    od::document_stream stream;
    if (auto e = parser.iterate_many(data, n, batch).get(stream))
      return failed = json_failure(context, e, base + from), *failed;
    for (auto it = stream.begin(); it != stream.end(); ++it) {
      od::document_reference doc;
      auto err = (*it).get(doc);
      od::object o;
      if (!err) err = doc.get_object().get(o);
      if (!err) err = parse_row(o);
      if (err) return failed = json_failure(context, err, base + from + it.current_index()), *failed;
    }
    if (stream.truncated_bytes() != 0)
      return fail(from + n - stream.truncated_bytes(), "incomplete report row");
    return {};
  }

  // Drops consumed bytes so the buffer holds at most one block plus the row in progress.
  void compact() {
    const std::size_t drop = std::min(block_begin, scan);
    if (drop == 0) return;
    std::memmove(buf.get(), buf.get() + drop, len - drop);
    len -= drop;
    base += drop;
    scan -= drop;
    block_begin -= drop;
    complete_end -= drop;
    gap_start = gap_start >= drop ? gap_start - drop : 0;
    obj_start = obj_start >= drop ? obj_start - drop : 0;
    after_check = after_check >= drop ? after_check - drop : 0;
  }
};

report_stream_parser::report_stream_parser(row_sink sink, std::string context)
    : report_stream_parser(std::move(sink), std::move(context), options{}) {}

report_stream_parser::report_stream_parser(row_sink sink, std::string context, options opts)
    : impl_(std::make_unique<impl>(std::move(sink), std::move(context), opts, &stats_)) {}

report_stream_parser::~report_stream_parser() = default;

result<void> report_stream_parser::feed(std::string_view chunk) {
  auto& m = *impl_;
  if (m.failed) return *m.failed;
  stats_.bytes += chunk.size();
  // Slices keep the buffer bounded when a caller hands over a large chunk at once.
  while (!chunk.empty()) {
    const std::size_t take = std::min(chunk.size(), m.opts.block_bytes);
    m.append(chunk.substr(0, take));
    chunk.remove_prefix(take);
    if (auto r = m.process(false); !r) return r;
  }
  return {};
}

result<void> report_stream_parser::finish() {
  auto& m = *impl_;
  if (m.failed) return *m.failed;
  if (m.len + block + simdjson::SIMDJSON_PADDING > m.cap) m.append({});
  return m.process(true);
}

void report_stream_parser::reset() {
  impl_->reset();
  stats_ = {};
}

}  // namespace bp::percipio
