#include "baton_percipio/percipio/report_stream_parser.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace bp::percipio;
using strategy = report_stream_parser::strategy;

namespace {

std::string fixture(const char* name) {
  std::ifstream f(std::string(BP_SOURCE_DIR) + "/tests/fixtures/percipio-recorded/" + name, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string id(unsigned n, char tag = '0') {
  char b[40];
  std::snprintf(b, sizeof b, "%08x-0000-4000-8000-%c%011x", n, tag, n);
  return b;
}

struct outcome {
  std::vector<report_row> rows;
  report_stream_parser::stats stats;
  bool ok = true;
  std::string error;
  std::size_t max_batch = 0;
};

report_stream_parser::options opts_for(strategy s, bool scalar) {
  report_stream_parser::options o;
  o.parse_strategy = s;
  o.force_scalar_scanner = scalar;
  o.block_bytes = 4096;
  o.batch_rows = 7;
  return o;
}

// Feeds `body` split at the given offsets.
outcome run(std::string_view body, const std::vector<std::size_t>& cuts, report_stream_parser::options o) {
  outcome out;
  report_stream_parser p(
      [&](std::span<const report_row> rows) {
        out.max_batch = std::max(out.max_batch, rows.size());
        out.rows.insert(out.rows.end(), rows.begin(), rows.end());
      },
      "report", o);
  std::size_t at = 0;
  for (std::size_t c : cuts) {
    auto r = p.feed(body.substr(at, c - at));
    at = c;
    if (!r) {
      out.ok = false;
      out.error = r.error().message;
      return out;
    }
  }
  auto r = p.feed(body.substr(at));
  if (r) r = p.finish();
  if (!r) {
    out.ok = false;
    out.error = r.error().message;
  }
  out.stats = p.statistics();
  return out;
}

outcome run_whole(std::string_view body, strategy s = strategy::iterate_many, bool scalar = false) {
  return run(body, {}, opts_for(s, scalar));
}

// A small report full of awkward bytes: nested objects and arrays, braces and brackets and escaped
// quotes in strings, escapes at odd positions, unicode, whitespace everywhere, numbers as strings.
std::string tricky_report() {
  std::string s = " \n[ \n";
  s += R"({"audience":"a}b]c{d[e","userUuid":")" + id(1) + R"(","contentUuid":")" + id(2) +
       R"(","status":"Started","customAttributes":{"x":"\"}","y":[1,{"z":"]"}]},"duration":"1"})";
  s += " ,\n\t";
  s += R"({"contentTitle":"quote \\\" brace { \\","status":"COMPLETED","contentUuid":")" + id(3) +
       R"(","totalAccesses":7,"userUuid":")" + id(4) + R"("})";
  s += ",";
  s += R"({"userUuid":")" + id(5) + R"(","contentUuid":")" + id(6) + R"(","status":null,"x":"\\\\"})";
  s += "  ,  ";
  s += R"({"userUuid":null,"contentUuid":")" + id(7) + R"(","status":"Started"})";  // skipped
  s += ",";
  s += R"({"status":"Watched","userUuid":")" + id(8) + R"(","contentUuid":")" + id(9) +
       R"(","t":"\u00e9\u4e2d","n":[[[]]],"e":{}})";
  s += ",";
  s += R"({"userUuid":"not-a-uuid","contentUuid":")" + id(10) + R"("})";  // skipped
  s += ",";
  s += R"({"userUuid":")" + id(11) + R"(","contentUuid":")" + id(12) + R"(","status":"Abandoned"})";
  s += "\n]\n";
  return s;
}

void check_tricky(const outcome& o) {
  REQUIRE_MESSAGE(o.ok, o.error);
  REQUIRE(o.rows.size() == 5);
  CHECK(o.rows[0].user.to_string() == id(1));
  CHECK(o.rows[0].content.to_string() == id(2));
  CHECK(o.rows[0].status == activity_status::started);
  CHECK(o.rows[1].user.to_string() == id(4));
  CHECK(o.rows[1].content.to_string() == id(3));
  CHECK(o.rows[1].status == activity_status::completed);
  CHECK(o.rows[2].status == activity_status::empty);
  CHECK(o.rows[3].status == activity_status::watched);
  CHECK(o.rows[4].status == activity_status::abandoned);
  CHECK(o.stats.skipped_rows == 2);
}

bool same_rows(const std::vector<report_row>& a, const std::vector<report_row>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].user != b[i].user || a[i].content != b[i].content || a[i].status != b[i].status) return false;
  return true;
}

}  // namespace

TEST_CASE("report stream: recorded fixture") {
  for (auto s : {strategy::iterate_many, strategy::per_object}) {
    auto o = run_whole(fixture("report.json"), s);
    REQUIRE_MESSAGE(o.ok, o.error);
    REQUIRE(o.rows.size() == 1);
    CHECK(o.rows[0].user.to_string() == "00000000-0000-0000-0000-000000000001");
    CHECK(o.rows[0].content.to_string() == "00000000-0000-0000-0000-000000000000");
    CHECK(o.rows[0].status == activity_status::started);
  }
}

TEST_CASE("report stream: tricky rows, both strategies, both scanners") {
  const std::string body = tricky_report();
  for (auto s : {strategy::iterate_many, strategy::per_object})
    for (bool scalar : {false, true}) check_tricky(run_whole(body, s, scalar));
}

TEST_CASE("report stream: split at every byte offset gives identical rows") {
  const std::string body = tricky_report();
  const auto whole = run_whole(body);
  REQUIRE(whole.ok);
  for (auto s : {strategy::iterate_many, strategy::per_object}) {
    for (bool scalar : {false, true}) {
      for (std::size_t cut = 0; cut <= body.size(); ++cut) {
        auto o = run(body, {cut}, opts_for(s, scalar));
        REQUIRE_MESSAGE(o.ok, "cut=" << cut << " " << o.error);
        REQUIRE_MESSAGE(same_rows(o.rows, whole.rows), "cut=" << cut);
      }
    }
  }
  // Byte at a time.
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < body.size(); ++i) every.push_back(i);
  auto one = run(body, every, opts_for(strategy::iterate_many, false));
  REQUIRE(one.ok);
  CHECK(same_rows(one.rows, whole.rows));
}

TEST_CASE("report stream: many rows across blocks, random chunking, bounded batches") {
  std::string body = "[";
  const unsigned n = 3000;
  for (unsigned i = 0; i < n; ++i) {
    if (i) body += i % 3 ? "," : " ,\n ";
    body += R"({"userUuid":")" + id(i) + R"(","pad":")" + std::string(i % 97, i % 2 ? '{' : '"' == 0 ? 'x' : ']') +
            R"(","contentUuid":")" + id(i, '7') + R"(","status":"Completed","deep":{"a":[{"b":"\\"}]}})";
  }
  body += "]";
  std::mt19937 rng(42);
  for (auto s : {strategy::iterate_many, strategy::per_object}) {
    for (int round = 0; round < 3; ++round) {
      std::vector<std::size_t> cuts;
      std::size_t at = 0;
      while (true) {
        at += 1 + rng() % 9000;
        if (at >= body.size()) break;
        cuts.push_back(at);
      }
      auto o = run(body, cuts, opts_for(s, round == 2));
      REQUIRE_MESSAGE(o.ok, o.error);
      REQUIRE(o.rows.size() == n);
      CHECK(o.max_batch <= 7);
      bool all = true;
      for (unsigned i = 0; i < n; ++i) all = all && o.rows[i].user.to_string() == id(i);
      CHECK(all);
      CHECK(o.stats.rows == n);
      CHECK(o.stats.bytes == body.size());
    }
  }
}

TEST_CASE("report stream: empty arrays and whitespace") {
  for (const char* b : {"[]", " [ ] ", "\n[\n]\n", "\xEF\xBB\xBF[]"}) {
    auto o = run_whole(b);
    CHECK_MESSAGE(o.ok, b, o.error);
    CHECK(o.rows.empty());
  }
}

TEST_CASE("report stream: malformed and truncated input reports byte offsets") {
  struct c {
    std::string body;
    std::string expect;
  };
  const std::string row = R"({"userUuid":")" + id(1) + R"(","contentUuid":")" + id(2) + R"("})";  // 83 bytes
  const std::size_t r = row.size();
  auto at = [](std::size_t n) { return std::to_string(n); };
  const std::vector<c> cases = {
      {"", "report: empty report body at byte 0"},
      {"   ", "report: empty report body at byte 3"},
      {"{\"status\":\"PENDING\"}", "report: expected '[' (a report array) at byte 0"},
      {"<html>", "report: expected '[' (a report array) at byte 0"},
      {"[", "report: truncated report: input ended before the closing ']' at byte 1"},
      {"[" + row + ",", "report: truncated report: input ended before the closing ']' at byte " + at(r + 2)},
      {"[" + row + "," + row.substr(0, 40), "report: truncated report: input ended inside the row that began at byte " +
                                                at(r + 2) + " at byte " + at(r + 42)},
      {"[" + row + "," + row.substr(0, 20),  // ends inside a string
       "report: truncated report: input ended inside the row that began at byte " + at(r + 2) + " at byte " +
           at(r + 22)},
      {"[" + row + row + "]", "report: expected ',' between report rows at byte " + at(r + 1)},
      {"[" + row + ",," + row + "]", "report: unexpected ',' in report array at byte " + at(r + 2)},
      {"[," + row + "]", "report: unexpected ',' in report array at byte 1"},
      {"[" + row + ",]", "report: trailing ',' in report array at byte " + at(r + 1)},
      {"[" + row + ",1]", "report: report array element is not an object at byte " + at(r + 2)},
      {"[" + row + ",\"{\"]", "report: report array element is not an object at byte " + at(r + 2)},
      {"[" + row + ",[]]", "report: report array element is not an object at byte " + at(r + 2)},
      {"[" + row + "] x", "report: unexpected data after the report array at byte " + at(r + 3)},
      {"[" + row + "]]", "report: unexpected data after the report array at byte " + at(r + 2)},
      {"[{\"a\":[}]", "report: mismatched ']' in report row at byte 8"},
      {"[}", "report: unexpected '}' in report array at byte 1"},
      {"[" + row + ",{\"a\" 1}]", "report: malformed JSON at byte " + at(r + 2) + " (TAPE_ERROR)"},
  };
  for (const auto& tc : cases) {
    for (auto s : {strategy::iterate_many, strategy::per_object}) {
      auto o = run_whole(tc.body, s);
      CHECK_MESSAGE(!o.ok, tc.body);
      CHECK_MESSAGE(o.error == tc.expect, tc.body);
    }
  }
}

TEST_CASE("report stream: failure is sticky; reset starts over") {
  std::vector<report_row> rows;
  report_stream_parser p([&](std::span<const report_row> r) { rows.insert(rows.end(), r.begin(), r.end()); });
  const std::string row = R"({"userUuid":")" + id(1) + R"(","contentUuid":")" + id(2) + R"("})";
  REQUIRE(p.feed("[" + row + ",").ok());
  auto f = p.finish();
  REQUIRE(!f.ok());
  CHECK(f.error().code == errc::malformed_response);
  CHECK(!p.feed("]").ok());
  // Complete rows before the truncation were delivered; a retry re-delivers them.
  CHECK(rows.size() == 1);
  rows.clear();
  p.reset();
  CHECK(p.statistics().bytes == 0);
  REQUIRE(p.feed("[" + row).ok());
  REQUIRE(p.feed("]").ok());
  REQUIRE(p.finish().ok());
  CHECK(rows.size() == 1);
  CHECK(p.statistics().rows == 1);
}

TEST_CASE("report stream: oversized row is an error, not unbounded memory") {
  report_stream_parser::options o;
  o.max_row_bytes = 10000;
  report_stream_parser p([](std::span<const report_row>) {}, "report", o);
  REQUIRE(p.feed("[{\"a\":\"").ok());
  std::string filler(4096, 'x');
  result<void> r;
  for (int i = 0; i < 10 && r.ok(); ++i) r = p.feed(filler);
  REQUIRE(!r.ok());
  CHECK(r.error().message == "report: report row larger than the row limit at byte 1");
}
