// Runs the built baton-percipio binary as a subprocess: exit codes, stdout and stderr.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "baton_percipio/cli/documents.hpp"
#include "cli/subprocess.hpp"
#include "cli/test_env.hpp"

using namespace bp::cli::test;

namespace {

run_output run(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
  return run_program(BP_CLI_BINARY, args, env);
}

const std::vector<std::string> required_env = {"BATON_API_TOKEN=" + std::string(token),
                                               "BATON_ORGANIZATION_ID=" + std::string(org)};

}  // namespace

TEST_CASE("--help and -v exit 0 with output on stdout") {
  auto h = run({"--help"});
  CHECK(h.status == 0);
  CHECK(h.out == bp::cli::usage_text());
  CHECK(h.err.empty());
  auto v = run({"-v"});
  CHECK(v.status == 0);
  CHECK(v.out == std::string("baton-percipio version ") + BP_VERSION + "\n");
  CHECK(v.err.empty());
}

TEST_CASE("capabilities and config print JSON without a trailing newline") {
  auto c = run({"capabilities"}, required_env);
  CHECK(c.status == 0);
  CHECK(c.out == bp::cli::capabilities_json());
  CHECK(c.err.empty());
  auto s = run({"config"});
  CHECK(s.status == 0);
  CHECK(s.out == bp::cli::config_schema_json());
  CHECK(s.err.empty());
}

TEST_CASE("configuration errors exit 2 with one line on stderr") {
  auto r = run({});
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "error: --api-token / BATON_API_TOKEN is required\n");
  auto c = run({"capabilities", "--organization-id", "abc"}, {"BATON_API_TOKEN=x"});
  CHECK(c.status == 2);
  CHECK(c.err == "error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got \"abc\"\n");
  auto u = run({"--bogus"}, required_env);
  CHECK(u.status == 2);
  CHECK(u.err == "error: unknown flag \"--bogus\" (see baton-percipio --help)\n");
  auto t = run({"--c1z-temp-dir", "/nonexistent/dir"}, required_env);
  CHECK(t.status == 2);
  CHECK(t.err == "error: --c1z-temp-dir / BATON_C1Z_TEMP_DIR must be an existing directory, got \"/nonexistent/dir\"\n");
}

TEST_CASE("service mode: a malformed client secret is exit 2 without echoing it") {
  auto env = required_env;
  env.push_back("BATON_CLIENT_ID=name@tenant.conductor.one/pcc");
  env.push_back("BATON_CLIENT_SECRET=secret-token:conductorone.com:v1:xyz");
  auto r = run({}, env);
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("--client-secret / BATON_CLIENT_SECRET") != std::string::npos);
  CHECK(r.err.find("secret-token") == std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("the token is not printed on any path") {
  const std::string secret = "tok-" + std::string(token);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--organization-id", secret},
           {secret},
           {"--api-token", secret, "--concurrency", secret},
           {"--api-token", secret, "--organization-id", std::string(org)},
       }) {
    auto r = run(args, {"BATON_API_TOKEN=" + secret});
    CHECK(r.status != 0);
    CHECK(r.out.find(secret) == std::string::npos);
    CHECK_MESSAGE(r.err.find(secret) == std::string::npos, r.err);
  }
}

TEST_CASE("inspect is wired in") {
  auto r = run({"inspect", "/nonexistent/file.c1z"});
  CHECK(r.status == 1);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("a readable --ca-file that is not PEM exits 2 naming the flag, and leaves nothing behind") {
  const std::string dir = std::string(BP_BINARY_DIR) + "/ca-file-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string garbage = dir + "/garbage.pem";
  {
    std::FILE* f = std::fopen(garbage.c_str(), "w");
    REQUIRE(f);
    std::fputs("this is not a certificate\n", f);
    std::fclose(f);
  }
  const std::string out = dir + "/x.c1z";
  auto r = run({"--ca-file", garbage, "--file", out}, required_env);
  CHECK(r.status == 2);
  CHECK(r.err == "error: --ca-file / BATON_CA_FILE must be a PEM file with at least one CA certificate, got \"" +
                     garbage + "\" (no PEM certificate in it)\n");
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"garbage.pem"});
  // A broken PEM block is refused the same way.
  {
    std::FILE* f = std::fopen(garbage.c_str(), "w");
    REQUIRE(f);
    std::fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n", f);
    std::fclose(f);
  }
  auto b = run({"--ca-file", garbage, "--file", out}, required_env);
  CHECK(b.status == 2);
  CHECK(b.err.find("--ca-file / BATON_CA_FILE must be a PEM file") != std::string::npos);
  std::filesystem::remove_all(dir);
}
