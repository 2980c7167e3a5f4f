// The report stream parser on arbitrary bytes: fed whole and in fuzzer-chosen pieces it must accept
// or refuse the same inputs and deliver the same rows; the other strategy and scanner must agree
// whenever both accept.
#include <string>
#include <vector>

#include "baton_percipio/percipio/report_stream_parser.hpp"
#include "fuzz/targets.hpp"

namespace bp::fuzz {
namespace {

struct outcome {
  bool ok = false;
  std::vector<percipio::report_row> rows;
  percipio::report_stream_parser::stats st;
};

template <class Feeder>
outcome run(const percipio::report_stream_parser::options& o, Feeder&& feed_all) {
  outcome out;
  percipio::report_stream_parser p(
      [&](std::span<const percipio::report_row> rows) {
        BP_FUZZ_CHECK(!rows.empty());
        BP_FUZZ_CHECK(rows.size() <= o.batch_rows || o.batch_rows == 0);
        out.rows.insert(out.rows.end(), rows.begin(), rows.end());
      },
      "report", o);
  bool ok = feed_all(p);
  if (ok) {
    auto r = p.finish();
    ok = r.ok();
    if (!r) BP_FUZZ_CHECK(r.error().message.find('\n') == std::string::npos);
  }
  out.ok = ok;
  out.st = p.statistics();
  return out;
}

bool same_rows(const outcome& a, const outcome& b) {
  if (a.rows.size() != b.rows.size()) return false;
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    if (!(a.rows[i].user == b.rows[i].user) || !(a.rows[i].content == b.rows[i].content) ||
        a.rows[i].status != b.rows[i].status)
      return false;
  }
  return true;
}

}  // namespace

int report_stream(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  using parser = percipio::report_stream_parser;
  parser::options o;
  const std::uint8_t opts = in.byte();
  o.parse_strategy = (opts & 1) ? parser::strategy::iterate_many : parser::strategy::per_object;
  o.force_scalar_scanner = (opts & 2) != 0;
  o.block_bytes = 1 + std::size_t{in.u16()};  // the parser raises tiny values to its minimum
  o.batch_rows = 1 + in.byte() % 16;
  o.max_row_bytes = (opts & 4) ? 64 + std::size_t{in.u16()} : (64u << 20);
  splitter sp;
  sp.read(in);
  const std::string_view text = in.rest();

  const outcome whole = run(o, [&](parser& p) { return p.feed(text).ok(); });
  auto feed_pieces = [&](parser& p) {
    bool ok = true;
    sp.for_each(text, [&](std::string_view piece) {
      ok = p.feed(piece).ok();
      return ok;
    });
    return ok;
  };
  const outcome pieces = run(o, feed_pieces);
  BP_FUZZ_CHECK(whole.ok == pieces.ok);
  if (whole.ok) {
    BP_FUZZ_CHECK(same_rows(whole, pieces));
    BP_FUZZ_CHECK(whole.st.rows == pieces.st.rows);
    BP_FUZZ_CHECK(whole.st.skipped_rows == pieces.st.skipped_rows);
    BP_FUZZ_CHECK(whole.st.rows == whole.rows.size());
  }

  parser::options other = o;
  other.parse_strategy = o.parse_strategy == parser::strategy::per_object ? parser::strategy::iterate_many
                                                                           : parser::strategy::per_object;
  other.force_scalar_scanner = !o.force_scalar_scanner;
  const outcome alt = run(other, feed_pieces);
  if (whole.ok && alt.ok) BP_FUZZ_CHECK(same_rows(whole, alt));
  return 0;
}

}  // namespace bp::fuzz
