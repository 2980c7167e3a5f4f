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

TEST_CASE("a secret added again and again is registered once") {
  bp::log::clear_secrets();
  // A daemon builds an api_client per sync, and each registers the token.
  for (int i = 0; i < 1000; ++i) bp::log::add_secret("s3cr3t-token");
  CHECK(bp::log::secret_count() == 1);
  bp::log::add_secret("another-secret");
  bp::log::add_secret("");
  CHECK(bp::log::secret_count() == 2);
  CHECK(bp::log::redact("s3cr3t-token another-secret") == "[REDACTED] [REDACTED]");
  bp::log::clear_secrets();
  CHECK(bp::log::secret_count() == 0);
}

TEST_CASE("a secret of 8 bytes or more is redacted inside text; a longer one containing it wins") {
  capture c;
  bp::log::set_sink(&c);
  bp::log::clear_secrets();
  bp::log::add_secret("12345678");
  bp::log::add_secret("xx12345678yy");
  bp::log::info("token=xx12345678yy and 12345678 and 1234567", {{"url", "https://h/?t=12345678&x=1"}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("token=[REDACTED] and [REDACTED] and 1234567") != std::string::npos);
  CHECK(c.lines[0].find(R"("url":"https://h/?t=[REDACTED]&x=1")") != std::string::npos);
  CHECK(c.lines[0].find("12345678") == std::string::npos);
  bp::log::clear_secrets();
  bp::log::set_sink(nullptr);
}

TEST_CASE("a secret shorter than 8 bytes is masked as a whole value only, never inside text") {
  capture c;
  bp::log::set_sink(&c);
  bp::log::clear_secrets();
  bp::log::add_secret("e");  // a one-letter token: substring redaction would mask every 'e'
  bp::log::add_secret("abc1234");
  bp::log::info("sync started, see abc12345", {{"token", "abc1234"}, {"other", "e"}, {"phase", "users"}});
  bp::log::warn("e");
  bp::log::configure(bp::log::level::info, bp::log::format::console);
  bp::log::info("abc1234", {{"token", "e"}});
  bp::log::configure(bp::log::level::info, bp::log::format::json);
  REQUIRE(c.lines.size() == 3);
  CHECK(c.lines[0].find(R"("msg":"sync started, see abc12345")") != std::string::npos);
  CHECK(c.lines[0].find(R"("token":"[REDACTED]")") != std::string::npos);
  CHECK(c.lines[0].find(R"("other":"[REDACTED]")") != std::string::npos);
  CHECK(c.lines[0].find(R"("phase":"users")") != std::string::npos);
  CHECK(c.lines[0].find(R"("level":"info")") != std::string::npos);
  CHECK(c.lines[1].find(R"("msg":"[REDACTED]")") != std::string::npos);
  CHECK(c.lines[2].find("\tbaton-percipio\t[REDACTED]\t{\"token\":\"[REDACTED]\"}\n") != std::string::npos);
  CHECK(bp::log::redact("abc1234") == "[REDACTED]");
  CHECK(bp::log::redact("here abc1234 there") == "here abc1234 there");
  CHECK(bp::log::redact("every e stays") == "every e stays");
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
