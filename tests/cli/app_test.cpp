#include "baton_percipio/cli/app.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "baton_percipio/cli/documents.hpp"
#include "baton_percipio/core/log.hpp"
#include "cli/test_env.hpp"

using namespace bp::cli;
using namespace bp::cli::test;

namespace {

struct outcome {
  int status;
  std::string out, err;
};

outcome run(std::initializer_list<std::string_view> args, std::map<std::string, std::string> env, const hooks& h = {}) {
  std::vector<std::string_view> v(args);
  std::ostringstream out, err;
  int status = run_cli(v, fake_env(std::move(env)), h, out, err);
  return {status, out.str(), err.str()};
}

}  // namespace

TEST_CASE("without a sync hook the bare command validates, then reports the missing sync") {
  auto r = run({}, base_env());
  CHECK(r.status == exit_internal);
  CHECK(r.err == "error: sync not available in this build\n");
  bp::log::clear_secrets();
}

TEST_CASE("the sync hook gets the parsed config and its exit code is returned") {
  hooks h;
  config seen;
  h.run_sync = [&](const config& c, std::ostream&, std::ostream&) {
    seen = c;
    return exit_upstream;
  };
  auto r = run({"--limited-courses", "c1,c2", "--log-level", "error"}, base_env(), h);
  CHECK(r.status == exit_upstream);
  CHECK(seen.limited_courses == std::vector<std::string>{"c1", "c2"});
  CHECK(seen.api_token == token);
  // Logging was configured from the settings and the token is registered as a secret.
  CHECK_FALSE(bp::log::enabled(bp::log::level::warn));
  CHECK(bp::log::enabled(bp::log::level::error));
  CHECK(bp::log::redact("Bearer " + std::string(token)) == "Bearer [REDACTED]");
  bp::log::clear_secrets();
  bp::log::configure(bp::log::level::info, bp::log::format::json);
}

TEST_CASE("the token is registered as a secret even when parsing fails") {
  auto r = run({"--organization-id", "bad"}, base_env());
  CHECK(r.status == exit_config);
  CHECK(bp::log::redact(std::string(token)) == "[REDACTED]");
  bp::log::clear_secrets();
}

TEST_CASE("inspect delegates the remaining arguments") {
  hooks h;
  std::vector<std::string> seen;
  h.run_inspect = [&](const std::vector<std::string>& a, std::ostream& out, std::ostream&) {
    seen = a;
    out << "ok";
    return 0;
  };
  auto r = run({"inspect", "x.c1z", "--stats"}, {}, h);
  CHECK(r.status == 0);
  CHECK(r.out == "ok");
  CHECK(seen == std::vector<std::string>{"x.c1z", "--stats"});
  auto none = run({"inspect", "x.c1z"}, {});
  CHECK(none.status == exit_internal);
  CHECK(none.err == "error: inspect not available in this build\n");
}

TEST_CASE("help, version, capabilities and config go to stdout") {
  CHECK(run({"-h"}, {}).out == usage_text());
  CHECK(run({"help"}, {}).status == 0);
  CHECK(run({"--version"}, {}).out == version_text() + "\n");
  auto c = run({"capabilities"}, base_env());
  CHECK(c.status == 0);
  CHECK(c.out == capabilities_json());
  CHECK(c.err.empty());
  CHECK(run({"config"}, {}).out == config_schema_json());
  bp::log::clear_secrets();
}
