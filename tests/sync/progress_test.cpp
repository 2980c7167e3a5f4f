// Progress while syncing: the live line (on a terminal) and the periodic log lines, on injected time.
#include "progress.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "baton_percipio/core/log.hpp"

using bp::sync::progress_mode;
using bp::sync::progress_reporter;
using bp::sync::progress_state;
using namespace std::chrono_literals;

namespace {

struct capture_sink : bp::log::sink {
  std::string text;
  void write(std::string_view line) override { text.append(line); }
};

progress_state sample() {
  progress_state p;
  p.pages = 12;
  p.users = 5000;
  p.users_done = true;
  p.courses = 300;
  p.report_polls = 2;
  p.report_streaming = true;
  p.grants = 777;
  p.rows_written = 6100;
  p.requests = 15;
  p.bytes = 3'500'000;
  return p;
}

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  return out;
}

}  // namespace

TEST_CASE("live line: redrawn in place at most every 250 ms, cleared at the end") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  {
    progress_reporter r(progress_mode::live_line, 10s, f);
    r.tick(sample(), t0 + 100ms);  // too soon after start
    CHECK(read_all(f).empty());
    r.tick(sample(), t0 + 300ms);
    const std::string line = read_all(f);
    CHECK(line.starts_with("\r\033[K"));
    for (const char* want : {"pages 12", "users 5000 (done)", "courses 300", "report streaming (polls 2)",
                             "grants 777", "rows written 6100", "15 requests, 3.5 MB"}) {
      CHECK_MESSAGE(line.find(want) != std::string::npos, want);
    }
    r.tick(sample(), t0 + 400ms);  // within 250 ms of the last line
    CHECK(read_all(f) == line);
    r.finish();
    CHECK(read_all(f) == line + "\r\033[K");
  }
  std::fclose(f);
}

TEST_CASE("not a terminal: a progress log line per interval; off: nothing") {
  capture_sink sink;
  bp::log::set_sink(&sink);
  bp::log::configure(bp::log::level::info, bp::log::format::json);
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  {
    progress_reporter r(progress_mode::automatic, 10s, f);  // a file is not a terminal
    r.tick(sample(), t0 + 5s);
    CHECK(sink.text.empty());
    r.tick(sample(), t0 + 11s);
    r.tick(sample(), t0 + 12s);
    r.finish();
  }
  {
    progress_reporter off(progress_mode::off, 1ms, f);
    off.tick(sample(), t0 + 1h);
  }
  bp::log::set_sink(nullptr);
  bp::log::configure(bp::log::level::error, bp::log::format::console);
  CHECK(read_all(f).empty());  // never a live line into a file
  std::fclose(f);
  std::size_t lines = 0;
  for (std::size_t pos = 0; (pos = sink.text.find("\"msg\":\"progress\"", pos)) != std::string::npos; ++pos) ++lines;
  CHECK(lines == 1);
  for (const char* want : {"\"pages\":12", "\"users\":5000", "\"courses\":300", "\"report\":\"streaming\"",
                           "\"grants\":777", "\"rows_written\":6100", "\"requests\":15", "\"bytes\":3500000"}) {
    CHECK_MESSAGE(sink.text.find(want) != std::string::npos, want);
  }
}
