// The real baton-percipio binary in daemon mode against an in-test fixture server: the first sync
// is observed through the metrics endpoint, SIGTERM stops it (between syncs and mid-sync) with
// status 0 and the file in place.
#include <doctest/doctest.h>

#include <regex>

#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/fixture/recorded_tenant.hpp"
#include "baton_percipio/sync/run.hpp"
#include "daemon.hpp"
#include "daemon/process.hpp"
#include "daemon/scrape.hpp"
#include "sync/sync_test_env.hpp"

namespace fx = bp::fixture;
using namespace std::chrono_literals;
using bp::daemon_test::child_process;
using bp::daemon_test::fetch;
using bp::daemon_test::sample;
using bp::sync::test::read_bytes;
using bp::sync::test::scratch_dir;

namespace {

std::shared_ptr<fx::recorded_tenant> recorded() {
  std::string err;
  auto t = fx::recorded_tenant::load(std::string(BP_SOURCE_DIR) + "/tests/fixtures/percipio/recorded-small", &err);
  REQUIRE_MESSAGE(t, err);
  return t;
}

std::vector<std::string> daemon_args(const fx::background_server& server, const std::filesystem::path& file) {
  return {"--interval", "1h", "--metrics-addr", "127.0.0.1:0", "--base-url", server.base_url(),
          "--file", file.string(), "--log-format", "json"};
}

const std::vector<std::string> daemon_env = {std::string("BATON_API_TOKEN=") + fx::demo_token,
                                             std::string("BATON_ORGANIZATION_ID=") + fx::demo_org_id};

// The metrics port from the start-up log line.
std::uint16_t metrics_port(child_process& p) {
  static const std::regex re("\"metrics endpoint listening\"[^\\n]*\"port\":([0-9]+)");
  std::smatch m;
  REQUIRE_MESSAGE(p.wait_for([&] { return std::regex_search(p.err(), m, re); }, 10s), p.err());
  return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

}  // namespace

TEST_CASE("binary: --interval daemon syncs, serves metrics, and exits 0 on SIGTERM") {
  auto tenant = recorded();
  fx::options fo;
  fo.pending_polls = 0;
  fx::background_server server(tenant, fo);
  scratch_dir dir;
  const auto file = dir / "daemon.c1z";

  child_process p(BP_CLI_BINARY, daemon_args(server, file), daemon_env);
  REQUIRE(p.started());
  const auto port = metrics_port(p);
  CHECK(fetch(port, "/healthz").status == 200);
  // Polls the endpoint until the first sync succeeded (paced by reading the child's stderr).
  bool synced = p.wait_for(
      [&] {
        auto r = fetch(port, "/metrics");
        return r.status == 200 && sample(r.body, "baton_percipio_syncs_succeeded_total").value_or(0) >= 1;
      },
      15s);
  REQUIRE_MESSAGE(synced, p.err());
  CHECK(fetch(port, "/readyz").status == 200);
  CHECK(std::filesystem::exists(file));
  for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
    CHECK_MESSAGE(fetch(port, path).body.find(fx::demo_token) == std::string::npos, path);
  }
  // Every JSON line from "sync started" to "sync finished" carries the sync id. (The metric can
  // be seen before the log line has been read from the pipe: read until it is there.)
  REQUIRE(p.wait_for([&] { return p.err().find("\"msg\":\"sync finished\"") != std::string::npos; }, 10s));
  {
    const std::string err = p.err();
    const auto begin = err.find("\"msg\":\"sync started\"");
    const auto end = err.find("\"msg\":\"sync finished\"");
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    std::size_t lines = 0;
    for (auto pos = err.rfind('\n', begin) + 1; pos <= end;) {
      const auto nl = err.find('\n', pos);
      const std::string line = err.substr(pos, nl - pos);
      if (line.starts_with("{")) {
        ++lines;
        CHECK_MESSAGE(line.find("\"sync_id\":\"") != std::string::npos, line);
      }
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    CHECK(lines >= 4);
  }

  const auto t0 = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  auto st = p.wait_exit(5s);
  REQUIRE_MESSAGE(st.has_value(), p.err());
  CHECK(*st == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  CHECK(p.err().find("\"daemon stopped\"") != std::string::npos);
  bp::c1z::reader r(file);
  CHECK(!r.sync().sync_id.empty());
  CHECK(p.err().find(fx::demo_token) == std::string::npos);
}

TEST_CASE("binary: SIGTERM mid-sync exits 0 promptly and keeps the last good file") {
  auto tenant = recorded();
  fx::background_server good(tenant);
  scratch_dir dir;
  const auto file = dir / "keep.c1z";
  bp::sync::run_sync(bp::sync::test::fast_options(good, file));
  const std::string before = read_bytes(file);
  REQUIRE(before.size() > 5);

  fx::options slow;
  slow.pending_polls = 1000000;  // the report never finishes
  fx::background_server pending(tenant, slow);
  child_process p(BP_CLI_BINARY, daemon_args(pending, file), daemon_env);
  REQUIRE(p.started());
  const auto port = metrics_port(p);
  REQUIRE_MESSAGE(p.wait_for([&] { return p.err().find("report requested") != std::string::npos; }, 15s), p.err());
  // Ready meanwhile: the last good file is there.
  CHECK(fetch(port, "/readyz").status == 200);

  const auto t0 = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  auto st = p.wait_exit(6s);
  REQUIRE_MESSAGE(st.has_value(), p.err());
  CHECK(*st == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 4s);
  CHECK(read_bytes(file) == before);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
}

TEST_CASE("binary: a one-shot sync interrupted by SIGINT exits 130 and writes nothing") {
  auto tenant = recorded();
  fx::options slow;
  slow.pending_polls = 1000000;
  fx::background_server pending(tenant, slow);
  scratch_dir dir;
  const auto file = dir / "once.c1z";
  child_process p(BP_CLI_BINARY,
                  {"--base-url", pending.base_url(), "--file", file.string(), "--metrics-addr", "127.0.0.1:0"},
                  daemon_env);
  REQUIRE(p.started());
  const auto port = metrics_port(p);
  REQUIRE_MESSAGE(p.wait_for([&] { return p.err().find("report requested") != std::string::npos; }, 15s), p.err());
  auto m = fetch(port, "/metrics");
  CHECK(sample(m.body, "baton_percipio_sync_in_progress") == 1);
  CHECK(fetch(port, "/readyz").status == 503);  // no file, no success yet
  p.signal(SIGINT);
  auto st = p.wait_exit(6s);
  REQUIRE_MESSAGE(st.has_value(), p.err());
  CHECK(*st == 130);
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("binary: exit status 4 when Percipio cannot be used, 5 when the file cannot be written, 130 on SIGTERM") {
  auto tenant = recorded();
  scratch_dir dir;
  SUBCASE("upstream failure: TLS to a plain-HTTP server") {
    fx::background_server plain(tenant);
    std::string url = plain.base_url();
    url.replace(0, 4, "https");
    child_process p(BP_CLI_BINARY, {"--base-url", url, "--file", (dir / "x.c1z").string()}, daemon_env);
    REQUIRE(p.started());
    auto st = p.wait_exit(20s);
    REQUIRE_MESSAGE(st.has_value(), p.err());
    CHECK(*st == 4);
    CHECK(p.err().find("TLS") != std::string::npos);
  }
  SUBCASE("output failure: the destination directory does not exist") {
    fx::background_server up(tenant);
    const auto missing = dir / "missing" / "x.c1z";
    child_process p(BP_CLI_BINARY, {"--base-url", up.base_url(), "--file", missing.string()}, daemon_env);
    REQUIRE(p.started());
    auto st = p.wait_exit(20s);
    REQUIRE_MESSAGE(st.has_value(), p.err());
    CHECK(*st == 5);
    CHECK(p.err().find((dir / "missing").string()) != std::string::npos);
    CHECK(up.log().size() == 0);  // failed before any request
  }
  SUBCASE("one-shot SIGTERM mid-sync: 130, nothing written") {
    fx::options slow;
    slow.pending_polls = 1000000;
    fx::background_server pending(tenant, slow);
    child_process p(BP_CLI_BINARY, {"--base-url", pending.base_url(), "--file", (dir / "x.c1z").string()}, daemon_env);
    REQUIRE(p.started());
    REQUIRE_MESSAGE(p.wait_for([&] { return p.err().find("report requested") != std::string::npos; }, 15s), p.err());
    p.signal(SIGTERM);
    auto st = p.wait_exit(6s);
    REQUIRE_MESSAGE(st.has_value(), p.err());
    CHECK(*st == 130);
  }
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("binary: a metrics address already in use is a configuration error") {
  bp::metrics::registry reg;
  std::error_code ec;
  auto taken = bp::cli::background_metrics::start("127.0.0.1", 0, reg, ec);
  REQUIRE(taken);
  scratch_dir dir;
  child_process p(BP_CLI_BINARY,
                  {"--base-url", "http://127.0.0.1:1", "--file", (dir / "x.c1z").string(), "--metrics-addr",
                   "127.0.0.1:" + std::to_string(taken->port())},
                  daemon_env);
  REQUIRE(p.started());
  auto st = p.wait_exit(10s);
  REQUIRE(st.has_value());
  CHECK(*st == 2);
  CHECK(p.err().find("error: --metrics-addr / BATON_METRICS_ADDR: cannot listen on") != std::string::npos);
}
