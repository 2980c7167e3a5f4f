// The real baton-percipio binary in service mode, configured through the environment as a
// Kubernetes Secret would, against an in-test fake ConductorOne and Percipio fixture server.
#include <doctest/doctest.h>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <signal.h>

#include <regex>

#include "c1/connector/v2/annotation_resource.pb.h"
#include "cli/subprocess.hpp"
#include "daemon/process.hpp"
#include "daemon/scrape.hpp"
#include "service/service_mode_env.hpp"

using namespace bp::service::test;
using bp::daemon_test::child_process;
using bp::daemon_test::fetch;
using bp::daemon_test::sample;
namespace v2 = c1::connector::v2;

namespace {

// The environment of the Secret and Deployment: no arguments needed besides the metrics address.
std::vector<std::string> service_environment(service_env& env) {
  return {"BATON_CLIENT_ID=" + env.settings.client_id,
          "BATON_CLIENT_SECRET=" + env.settings.client_secret,
          "BATON_C1_API_HOST=" + env.settings.api_host_override,
          "BATON_HOST_ID=binary-host",
          "SSL_CERT_FILE=" + env.settings.ca_file,
          "BATON_C1Z_TEMP_DIR=" + env.temp_dir().string(),
          std::string("BATON_API_TOKEN=") + fx::demo_token,
          std::string("BATON_ORGANIZATION_ID=") + fx::demo_org_id,
          "BATON_BASE_URL=" + env.percipio().base_url(),
          "BATON_LOG_FORMAT=json"};
}

std::uint16_t metrics_port(child_process& p) {
  static const std::regex re("\"metrics endpoint listening\"[^\\n]*\"port\":([0-9]+)");
  std::smatch m;
  REQUIRE_MESSAGE(p.wait_for([&] { return std::regex_search(p.err(), m, re); }, 10s), p.err());
  return static_cast<std::uint16_t>(std::stoi(m[1].str()));
}

v2::ConnectorCapabilities parse_capabilities(const std::string& json) {
  // The annotation's type must be in the generated pool for the JSON parser to resolve it.
  (void)v2::SkipEntitlementsAndGrants::descriptor();
  google::protobuf::Any any;
  auto st = google::protobuf::util::JsonStringToMessage(json, &any);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  v2::ConnectorCapabilities caps;
  REQUIRE(any.UnpackTo(&caps));
  return caps;
}

}  // namespace

TEST_CASE("binary service mode: Hello, a sync_full uploaded and finished, metrics, SIGTERM exits 0") {
  service_env env(fast_fake("sync_full,grant"));
  auto environment = service_environment(env);
  child_process p(BP_CLI_BINARY, {"--metrics-addr", "127.0.0.1:0"}, environment);
  REQUIRE(p.started());
  const auto port = metrics_port(p);
  REQUIRE_MESSAGE(env.wait_finished(2), p.err());

  // Hello's capabilities are what `baton-percipio capabilities` prints.
  auto caps = bp::cli::test::run_program(BP_CLI_BINARY, {"capabilities"}, environment);
  REQUIRE(caps.status == 0);
  auto hellos = env.c1().hellos();
  REQUIRE_FALSE(hellos.empty());
  CHECK(hellos[0].request.host_id() == "binary-host");
  CHECK(google::protobuf::util::MessageDifferencer::Equals(hellos[0].request.connector_metadata().capabilities(),
                                                           parse_capabilities(caps.out)));

  auto uploads = env.c1().uploads();
  REQUIRE(uploads.size() == 1);
  CHECK(uploads[0].sha_ok);
  const auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 2);
  CHECK(fins[0].success);
  CHECK(fins[1].status_code == 9);

  CHECK(fetch(port, "/readyz").status == 200);
  const auto m = fetch(port, "/metrics");
  CHECK(sample(m.body, "baton_percipio_service_uploads_total") == 1);
  CHECK(sample(m.body, "baton_percipio_service_tasks_total{type=\"sync_full\",outcome=\"success\"}") == 1);
  CHECK(sample(m.body, "baton_percipio_service_tasks_total{type=\"grant\",outcome=\"error\"}") == 1);

  p.signal(SIGTERM);
  auto status = p.wait_exit(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(std::filesystem::is_empty(env.temp_dir()));
  const auto& secret = env.settings.client_secret;
  CHECK(p.err().find(secret.substr(secret.rfind(':') + 1)) == std::string::npos);
  CHECK(p.err().find(fx::demo_token) == std::string::npos);
  CHECK(m.body.find(fx::demo_token) == std::string::npos);
  // The sync's summary is printed as in one-shot mode, and task lines carry the task id.
  CHECK(p.err().find("\"users\":") != std::string::npos);
  CHECK(p.err().find("\"task_id\":\"" + fins[0].task_id + "\"") != std::string::npos);
}

TEST_CASE("binary service mode: SIGTERM mid-sync reports CANCELLED and exits 0") {
  fx::options slow;
  slow.pending_polls = 1000000;  // the report never becomes ready: the sync waits for it
  service_env env(fast_fake("sync_full"), slow);
  child_process p(BP_CLI_BINARY, {}, service_environment(env));
  REQUIRE(p.started());
  // The first heartbeat precedes the sync; the report request shows it is running.
  REQUIRE_MESSAGE(p.wait_for([&] { return env.percipio().log().count(fx::endpoint::report_request) > 0; }, 15s),
                  p.err());
  p.signal(SIGTERM);
  auto status = p.wait_exit(10s);
  REQUIRE_MESSAGE(status, p.err());
  CHECK(*status == 0);
  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].status_code == 1);
  CHECK(env.c1().uploads().empty());
  CHECK(std::filesystem::is_empty(env.temp_dir()));
}

TEST_CASE("binary service mode: refused credentials exit 3, configuration errors exit 2") {
  auto o = fast_fake();
  o.fault.token_reject = true;
  service_env env(o);
  auto environment = service_environment(env);
  auto r = bp::cli::test::run_program(BP_CLI_BINARY, {}, environment);
  CHECK(r.status == 3);
  CHECK(r.err.find("refused the client credentials") != std::string::npos);
  const auto& secret = env.settings.client_secret;
  CHECK(r.err.find(secret.substr(secret.rfind(':') + 1)) == std::string::npos);

  auto without = [&](const std::string& prefix) {
    std::vector<std::string> e;
    for (const auto& kv : environment)
      if (kv.rfind(prefix, 0) != 0) e.push_back(kv);
    return e;
  };
  auto missing = bp::cli::test::run_program(BP_CLI_BINARY, {}, without("BATON_CLIENT_SECRET="));
  CHECK(missing.status == 2);
  CHECK(missing.err.find("--client-secret / BATON_CLIENT_SECRET") != std::string::npos);

  auto bad = without("BATON_CLIENT_SECRET=");
  bad.push_back("BATON_CLIENT_SECRET=secret-token:conductorone.com:v1:bm90LWEta2V5LXNlY3JldHZhbHVl");
  auto malformed = bp::cli::test::run_program(BP_CLI_BINARY, {}, bad);
  CHECK(malformed.status == 2);
  CHECK(malformed.err.find("--client-secret / BATON_CLIENT_SECRET") != std::string::npos);
  CHECK(malformed.err.find("bm90LWEta2V5LXNlY3JldHZhbHVl") == std::string::npos);

  auto interval = bp::cli::test::run_program(BP_CLI_BINARY, {"--interval", "6h"}, environment);
  CHECK(interval.status == 2);
  CHECK(interval.err.find("--interval / BATON_INTERVAL does not apply in service mode") != std::string::npos);
  auto file = bp::cli::test::run_program(BP_CLI_BINARY, {"-f", "x.c1z"}, environment);
  CHECK(file.status == 2);
  CHECK(file.err.find("--file / BATON_FILE is not used in service mode") != std::string::npos);
  CHECK(env.c1().polls().empty());
}
