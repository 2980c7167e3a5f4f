#include "baton_percipio/core/log.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {
struct capture : bp::log::sink {
  std::vector<std::string> lines;
  void write(std::string_view line) override { lines.emplace_back(line); }
};
}  // namespace

TEST_CASE("json log lines carry level, msg, sync id and fields; secrets are redacted") {
  capture c;
  bp::log::set_sink(&c);
  bp::log::configure(bp::log::level::info, bp::log::format::json);
  bp::log::add_secret("s3cr3t-token");
  bp::log::set_sync_id("2abc");
  bp::log::debug("hidden");
  bp::log::info("hello s3cr3t-token", {{"count", 3}, {"who", "Bearer s3cr3t-token"}});
  REQUIRE(c.lines.size() == 1);
  const auto& l = c.lines[0];
  CHECK(l.find(R"("level":"info")") != std::string::npos);
  CHECK(l.find(R"("msg":"hello [REDACTED]")") != std::string::npos);
  CHECK(l.find(R"("sync_id":"2abc")") != std::string::npos);
  CHECK(l.find(R"("count":3)") != std::string::npos);
  CHECK(l.find("s3cr3t") == std::string::npos);
  CHECK(bp::log::redact("x s3cr3t-token y") == "x [REDACTED] y");
  bp::log::set_sync_id("");
  bp::log::clear_secrets();
  bp::log::set_sink(nullptr);
}

TEST_CASE("console lines are tab separated with an upper-case level") {
  capture c;
  bp::log::set_sink(&c);
  bp::log::configure(bp::log::level::debug, bp::log::format::console);
  bp::log::warn("careful", {{"n", 1}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("\tWARN\tbaton-percipio\tcareful\t{\"n\":1}\n") != std::string::npos);
  bp::log::set_sink(nullptr);
  bp::log::configure(bp::log::level::info, bp::log::format::json);
}

TEST_CASE("level and format parsing follow zap's fallbacks") {
  CHECK(bp::log::parse_level("warn") == bp::log::level::warn);
  CHECK(bp::log::parse_level("bogus") == bp::log::level::debug);
  CHECK(bp::log::parse_format("console") == bp::log::format::console);
  CHECK(bp::log::parse_format("xml") == bp::log::format::json);
}
