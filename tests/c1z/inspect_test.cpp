#include "baton_percipio/cli/inspect_command.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "c1z/test_util.hpp"

using bp::cli::run_inspect;

namespace {

struct result {
  int code;
  std::string out;
  std::string err;
};

result inspect(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = run_inspect(args, out, err);
  return {code, out.str(), err.str()};
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

const std::string fixture = bp::c1z::test::fixture_path().string();

}  // namespace

TEST_CASE("inspect --stats on the baton-sdk fixture") {
  const auto r = inspect({fixture});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("(full)") != std::string::npos);
  CHECK(r.out.find("NAME            COUNT\n"
                   "resource_types      2\n") != std::string::npos);
  CHECK(r.out.find("\nuser               40\n") != std::string::npos);
  CHECK(r.out.find("\ncourse             16\n") != std::string::npos);
  CHECK(r.out.find("\nentitlements       32\n") != std::string::npos);
  CHECK(r.out.find("\ngrants            168\n") != std::string::npos);
  CHECK(inspect({"--stats", fixture}).out == r.out);
}

TEST_CASE("inspect --stats --json") {
  const auto r = inspect({fixture, "--stats", "--json"});
  CHECK(r.code == 0);
  CHECK(lines(r.out) == 1);
  CHECK(r.out.find(R"("sync_type":"full")") != std::string::npos);
  const auto tail = r.out.substr(r.out.find(R"("resource_types")"));
  const bool user_first = tail == "\"resource_types\":2,\"resources\":{\"user\":40,\"course\":16},\"entitlements\":32,\"grants\":168}\n";
  const bool course_first = tail == "\"resource_types\":2,\"resources\":{\"course\":16,\"user\":40},\"entitlements\":32,\"grants\":168}\n";
  CHECK((user_first || course_first));
}

TEST_CASE("inspect lists resources, entitlements and grants") {
  const auto res = inspect({fixture, "--resources"});
  CHECK(res.code == 0);
  CHECK(lines(res.out) == 1 + 56);
  CHECK(res.out.rfind("TYPE", 0) == 0);
  const auto ents = inspect({fixture, "--entitlements"});
  CHECK(lines(ents.out) == 1 + 32);
  CHECK(ents.out.rfind("ID", 0) == 0);
  const auto grants = inspect({fixture, "--grants"});
  CHECK(lines(grants.out) == 1 + 168);
  CHECK(grants.out.rfind("ENTITLEMENT", 0) == 0);
  CHECK(grants.out.find(":unknown ") != std::string::npos);
  // Columns are aligned: every row starts its second column at the same offset.
  const auto first_nl = grants.out.find('\n');
  const auto col = grants.out.find("PRINCIPAL");
  const auto second = grants.out.substr(first_nl + 1);
  CHECK(second.find("user:") == col);

  const auto json_res = inspect({fixture, "--resources", "--json"});
  CHECK(lines(json_res.out) == 56);
  CHECK(json_res.out.rfind("{\"resource_type\":", 0) == 0);
  CHECK(json_res.out.find("\"status\":\"enabled\"") != std::string::npos);
  const auto json_grants = inspect({"--json", "--grants", fixture});
  CHECK(lines(json_grants.out) == 168);
  CHECK(json_grants.out.rfind("{\"id\":", 0) == 0);
  CHECK(json_grants.out.find("\"principal_type\":\"user\"") != std::string::npos);
  CHECK(lines(inspect({fixture, "--entitlements", "--json"}).out) == 32);
}

TEST_CASE("inspect usage errors exit 2 and name the argument") {
  auto r = inspect({fixture, "--bogus"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--bogus") != std::string::npos);
  CHECK(r.out.empty());
  r = inspect({});
  CHECK(r.code == 2);
  CHECK(r.err.find("FILE") != std::string::npos);
  r = inspect({fixture, "--grants", "--resources"});
  CHECK(r.code == 2);
  CHECK(r.err.find("--resources") != std::string::npos);
  r = inspect({fixture, "other.c1z"});
  CHECK(r.code == 2);
  CHECK(r.err.find("other.c1z") != std::string::npos);
  r = inspect({"--help"});
  CHECK(r.code == 0);
  CHECK(r.out.find("usage:") == 0);
}

TEST_CASE("inspect on unreadable files exits 1 with one line") {
  bp::c1z::test::scratch_dir dir;
  bp::c1z::test::write_file(dir / "junk.c1z", "junk");
  for (const auto& p : {(dir / "junk.c1z").string(), (dir / "missing.c1z").string()}) {
    const auto r = inspect({p, "--grants"});
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(p) != std::string::npos);
  }
}
