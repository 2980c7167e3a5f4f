// The end-of-sync summary: every figure the README promises, as text and as one JSON object.
#include "baton_percipio/sync/summary.hpp"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace {

bp::sync::summary filled() {
  bp::sync::summary s;
  s.ok = true;
  s.sync_id = "2ZsEsNtTMTWzyG3DLMhgR7wZMbz";
  s.file = "/data/sync.c1z";
  s.file_bytes = 12345;
  s.database_bytes = 99999;
  s.resource_types = 2;
  s.users = 40;
  s.courses = 16;
  s.entitlements = 32;
  s.grants_completed = 100;
  s.grants_in_progress = 68;
  s.grants_upgraded = 3;
  s.report_rows = 250;
  s.rows_unknown_user = 7;
  s.rows_unknown_course = 11;
  s.rows_unmapped_status = {{"", 5}, {"Abandoned", 4}, {"In Progress", 2}};
  s.requests = 21;
  s.retries = 4;
  s.rate_limited = 3;
  s.bytes_downloaded = 2'500'000;
  s.wall_seconds = 1.5;
  s.cpu_seconds = 0.75;
  s.peak_rss_bytes = 50'000'000;
  s.finish_seconds = 0.25;
  return s;
}

// The figures on the text line of `label` ("  LABEL<padding>FIGURES"), nullopt without such a line.
std::optional<std::string> value_of(const std::string& text, std::string_view label) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    if (line.substr(0, 2) != "  " || line.substr(2, label.size()) != label) continue;
    const std::string_view rest = line.substr(2 + label.size());
    const std::size_t value = rest.find_first_not_of(' ');
    if (value == 0 || value == std::string_view::npos) continue;  // a longer label, or no figures
    return std::string(rest.substr(value));
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("summary text names every count, skip reason and traffic figure") {
  const std::string t = filled().to_text();
  CHECK(t.rfind("Sync finished\n", 0) == 0);
  // Each label with its own figures on its line: a number under the wrong label fails.
  const std::pair<const char*, const char*> rows[] = {
      {"sync id", "2ZsEsNtTMTWzyG3DLMhgR7wZMbz"},
      {"file", "/data/sync.c1z (12345 bytes)"},
      {"resource types", "2"},
      {"users", "40"},
      {"courses", "16"},
      {"entitlements", "32"},
      {"grants", "168 (100 completed, 68 in_progress)"},
      {"rows skipped: unknown user", "7"},
      {"rows skipped: unknown course", "11"},
      {"rows skipped: status \"\"", "5"},
      {"rows skipped: status \"Abandoned\"", "4"},
      {"rows skipped: status \"In Progress\"", "2"},
      {"rows merged (duplicates)", "0 (3 upgraded to completed)"},
      {"requests", "21 (4 retries, 3 rate limited)"},
      {"downloaded", "2.5 MB"},
      {"wall time", "1.50 s (cpu 0.75 s)"},
      {"writing the file", "0.25 s (indexes 0.00 s, compression 0.00 s; 0.1 MB database)"},
      {"peak memory", "50.0 MB"},
  };
  for (const auto& [label, value] : rows) {
    INFO(label);
    const auto v = value_of(t, label);
    REQUIRE(v.has_value());
    CHECK(*v == std::string(value));
  }
}

TEST_CASE("summary JSON is one machine-readable object with the same figures") {
  const std::string j = filled().to_json();
  simdjson::dom::parser p;
  simdjson::dom::element e;
  REQUIRE(p.parse(j).get(e) == simdjson::SUCCESS);
  CHECK(e["ok"].get_bool().value() == true);
  CHECK(e["users"].get_uint64().value() == 40);
  CHECK(e["courses"].get_uint64().value() == 16);
  CHECK(e["grants"].get_uint64().value() == 168);
  CHECK(e["grants_completed"].get_uint64().value() == 100);
  CHECK(e["skipped"]["unknown_user"].get_uint64().value() == 7);
  CHECK(e["skipped"]["unknown_course"].get_uint64().value() == 11);
  CHECK(e["skipped"]["status"]["In Progress"].get_uint64().value() == 2);
  CHECK(e["skipped"]["status"][""].get_uint64().value() == 5);
  CHECK(e["requests"].get_uint64().value() == 21);
  CHECK(e["retries"].get_uint64().value() == 4);
  CHECK(e["rate_limited"].get_uint64().value() == 3);
  CHECK(e["bytes_downloaded"].get_uint64().value() == 2'500'000);
  CHECK(e["wall_seconds"].get_double().value() == doctest::Approx(1.5));
  CHECK(e["peak_rss_bytes"].get_uint64().value() == 50'000'000);
  CHECK(e["finish_seconds"].get_double().value() == doctest::Approx(0.25));
}

TEST_CASE("a failed sync's summary carries the error") {
  auto s = filled();
  s.ok = false;
  s.error = "users: HTTP 503 after 5 attempts";
  CHECK(s.to_text().find("Sync failed") != std::string::npos);
  CHECK(s.to_text().find(s.error) != std::string::npos);
  simdjson::dom::parser p;
  simdjson::dom::element e;
  const std::string j = s.to_json();
  REQUIRE(p.parse(j).get(e) == simdjson::SUCCESS);
  CHECK(e["ok"].get_bool().value() == false);
  CHECK(std::string(e["error"].get_string().value()) == s.error);
}
