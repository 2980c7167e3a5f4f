// deploy/kubernetes/*.yaml: required keys, the names and labels of the upstream self-hosted set-up,
// consistency between the objects, and settings the binary actually reads and accepts.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/cli/config.hpp"
#include "deploy/deploy_files.hpp"
#include "deploy/yaml_doc.hpp"

using bp::test::yaml::node;

namespace {

constexpr std::string_view secret_name = "baton-percipio-secrets";
constexpr std::string_view claim_name = "baton-percipio-data";
constexpr std::string_view valid_org = "11111111-2222-3333-4444-555555555555";

node manifest(const std::string& file) {
  return bp::test::yaml::parse(bp::test::read_source_file("deploy/kubernetes/" + file));
}

void check_labels(const node& metadata) {
  INFO("labels of ", metadata.has("name") ? metadata.str("name") : std::string("a pod template"));
  CHECK(metadata.str("labels.app") == "baton-percipio");
  CHECK(metadata.str("labels.baton") == "true");
  CHECK(metadata.str("labels.baton-app") == "percipio");
}

// Every BATON_* word in the file, comments included, is a variable the binary reads.
void check_env_words(const std::string& file) {
  INFO(file);
  for (const auto& name : bp::test::baton_names_in(bp::test::read_source_file(file)))
    CHECK_MESSAGE(bp::test::known_env_names().count(name) == 1, name, " is not read by baton-percipio");
}

std::vector<std::string> scalars(const node& seq) {
  std::vector<std::string> out;
  for (const auto& n : seq.items) out.push_back(n.value);
  return out;
}

// The pod spec's one container, with its environment as the process would see it.
struct pod_view {
  const node* pod = nullptr;
  const node* container = nullptr;
  std::map<std::string, std::string> env;  // container env: entries, by name
};

pod_view pod_of(const node& pod_spec) {
  pod_view v;
  v.pod = &pod_spec;
  const auto& containers = pod_spec.at("containers");
  REQUIRE(containers.items.size() == 1);
  v.container = &containers.items[0];
  if (const node* env = v.container->find("env")) {
    for (const auto& e : env->items) v.env[e.str("name")] = e.str("value");
  }
  return v;
}

void check_pod(const pod_view& v) {
  const node& c = *v.container;
  // Settings come from the Secret.
  const auto& env_from = c.at("envFrom");
  REQUIRE(env_from.items.size() == 1);
  CHECK(env_from.items[0].str("secretRef.name") == secret_name);
  for (const auto& [name, value] : v.env) CHECK_MESSAGE(bp::test::known_env_names().count(name) == 1, name);
  CHECK(v.env.at("BATON_FILE").starts_with("/data/"));

  // Non-root, no privilege escalation.
  const auto& psc = v.pod->at("securityContext");
  CHECK(psc.str("runAsNonRoot") == "true");
  CHECK(std::stoi(psc.str("runAsUser")) != 0);
  CHECK(std::stoi(psc.str("runAsUser")) == 65532);  // the image's user
  CHECK(c.str("securityContext.allowPrivilegeEscalation") == "false");
  CHECK(c.str("securityContext.readOnlyRootFilesystem") == "true");

  CHECK(c.has("image"));
  CHECK(c.has("resources"));
  CHECK_FALSE(c.str("resources.requests.cpu").empty());
  CHECK_FALSE(c.str("resources.requests.memory").empty());

  // /data on the claim; every mount has a volume.
  std::map<std::string, const node*> volumes;
  for (const auto& vol : v.pod->at("volumes").items) volumes[vol.str("name")] = &vol;
  bool data_mounted = false;
  for (const auto& m : c.at("volumeMounts").items) {
    REQUIRE_MESSAGE(volumes.count(m.str("name")) == 1, "no volume ", m.str("name"));
    if (m.str("mountPath") == "/data") {
      data_mounted = true;
      CHECK(volumes[m.str("name")]->str("persistentVolumeClaim.claimName") == claim_name);
    }
  }
  CHECK(data_mounted);
}

// The Secret's keys as environment, placeholders made valid, plus the container's env.
bp::cli::env_lookup env_of(const node& secret, const pod_view& v,
                           std::map<std::string, std::string> overrides = {}) {
  std::map<std::string, std::string> env;
  for (const auto& [k, val] : secret.at("stringData").entries) env[k] = val.value;
  for (const auto& [k, val] : v.env) env[k] = val;
  for (auto& [k, val] : overrides) env[k] = val;
  return [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

bp::cli::parse_result parse_with(const std::vector<std::string>& args, const bp::cli::env_lookup& env) {
  std::vector<std::string_view> views(args.begin(), args.end());
  return bp::cli::parse_config(views, env);
}

}  // namespace

TEST_CASE("deploy: the binary's BATON_* variables are found in its usage text") {
  const auto& names = bp::test::known_env_names();
  for (const char* n : {"BATON_API_TOKEN", "BATON_ORGANIZATION_ID", "BATON_LIMITED_COURSES", "BATON_CLIENT_ID",
                        "BATON_CLIENT_SECRET", "BATON_FILE", "BATON_INTERVAL", "BATON_METRICS_ADDR"})
    CHECK_MESSAGE(names.count(n) == 1, n);
}

TEST_CASE("deploy: secret.yaml") {
  auto s = manifest("secret.yaml");
  CHECK(s.str("apiVersion") == "v1");
  CHECK(s.str("kind") == "Secret");
  CHECK(s.str("metadata.name") == secret_name);
  check_labels(s.at("metadata"));
  const auto& data = s.at("stringData");
  REQUIRE(data.is_map());
  CHECK(data.keys() == std::vector<std::string>{"BATON_API_TOKEN", "BATON_ORGANIZATION_ID", "BATON_LIMITED_COURSES",
                                                "BATON_CLIENT_ID", "BATON_CLIENT_SECRET"});
  for (const auto& k : data.keys()) CHECK_MESSAGE(bp::test::known_env_names().count(k) == 1, k);
  // Set, these would make this version refuse to start (service mode): they ship empty.
  CHECK(data.str("BATON_CLIENT_ID").empty());
  CHECK(data.str("BATON_CLIENT_SECRET").empty());
  CHECK_FALSE(data.str("BATON_API_TOKEN").empty());
  check_env_words("deploy/kubernetes/secret.yaml");
}

TEST_CASE("deploy: pvc.yaml") {
  auto p = manifest("pvc.yaml");
  CHECK(p.str("apiVersion") == "v1");
  CHECK(p.str("kind") == "PersistentVolumeClaim");
  CHECK(p.str("metadata.name") == claim_name);
  check_labels(p.at("metadata"));
  CHECK(scalars(p.at("spec.accessModes")) == std::vector<std::string>{"ReadWriteOnce"});
  CHECK_FALSE(p.str("spec.resources.requests.storage").empty());
}

TEST_CASE("deploy: deployment.yaml") {
  auto d = manifest("deployment.yaml");
  CHECK(d.str("apiVersion") == "apps/v1");
  CHECK(d.str("kind") == "Deployment");
  CHECK(d.str("metadata.name") == "baton-percipio");
  check_labels(d.at("metadata"));
  CHECK(d.str("spec.replicas") == "1");
  CHECK(d.str("spec.strategy.type") == "Recreate");  // one writer of the ReadWriteOnce claim

  const auto& tmpl = d.at("spec.template");
  check_labels(tmpl.at("metadata"));
  for (const auto& [k, v] : d.at("spec.selector.matchLabels").entries)
    CHECK_MESSAGE(tmpl.str("metadata.labels." + k) == v.value, "selector label ", k, " not on the pod");

  auto pod = pod_of(tmpl.at("spec"));
  check_pod(pod);
  const node& c = *pod.container;
  CHECK(scalars(c.at("args")) == std::vector<std::string>{"--interval", "6h", "--metrics-addr", "0.0.0.0:9090"});

  // Probes on the metrics port, by name or number.
  std::map<std::string, std::string> ports;
  for (const auto& p : c.at("ports").items) ports[p.str("name")] = p.str("containerPort");
  auto probe_port = [&](const node& probe) {
    std::string port = probe.str("httpGet.port");
    return ports.count(port) ? ports[port] : port;
  };
  CHECK(c.str("livenessProbe.httpGet.path") == "/healthz");
  CHECK(probe_port(c.at("livenessProbe")) == "9090");
  CHECK(c.str("readinessProbe.httpGet.path") == "/readyz");
  CHECK(probe_port(c.at("readinessProbe")) == "9090");
  check_env_words("deploy/kubernetes/deployment.yaml");
}

TEST_CASE("deploy: cronjob.yaml") {
  auto cj = manifest("cronjob.yaml");
  CHECK(cj.str("apiVersion") == "batch/v1");
  CHECK(cj.str("kind") == "CronJob");
  CHECK(cj.str("metadata.name").starts_with("baton-percipio"));
  check_labels(cj.at("metadata"));
  CHECK(cj.str("spec.concurrencyPolicy") == "Forbid");
  // Five cron fields.
  std::string schedule = cj.str("spec.schedule");
  CHECK(std::count(schedule.begin(), schedule.end(), ' ') == 4);
  check_labels(cj.at("spec.jobTemplate.spec.template.metadata"));
  const auto& pod_spec = cj.at("spec.jobTemplate.spec.template.spec");
  std::string restart = pod_spec.str("restartPolicy");
  CHECK((restart == "Never" || restart == "OnFailure"));
  auto pod = pod_of(pod_spec);
  check_pod(pod);
  // A batch sync: no daemon interval.
  for (const auto& a : scalars(pod.container->at("args"))) CHECK(a != "--interval");
  CHECK(pod.env.count("BATON_INTERVAL") == 0);
  check_env_words("deploy/kubernetes/cronjob.yaml");
}

TEST_CASE("deploy: the Deployment's settings parse as the daemon the manifests describe") {
  auto secret = manifest("secret.yaml");
  auto d = manifest("deployment.yaml");
  auto pod = pod_of(d.at("spec.template.spec"));
  auto args = scalars(pod.container->at("args"));

  // As shipped, the placeholder organization id is refused as a configuration error.
  auto placeholder = parse_with(args, env_of(secret, pod));
  CHECK_FALSE(placeholder.ok());
  CHECK(placeholder.exit_code == bp::cli::exit_config);

  auto r = parse_with(args, env_of(secret, pod, {{"BATON_ORGANIZATION_ID", std::string(valid_org)}}));
  REQUIRE_MESSAGE(r.ok(), r.error);
  CHECK(r.cmd == bp::cli::command::sync);
  REQUIRE(r.cfg.interval);
  CHECK(*r.cfg.interval == std::chrono::hours(6));
  CHECK(r.cfg.metrics_host == "0.0.0.0");
  CHECK(r.cfg.metrics_port == 9090);
  CHECK(r.cfg.file == "/data/sync.c1z");
  CHECK(r.cfg.limited_courses.empty());
  CHECK_FALSE(r.cfg.service_mode_requested());  // the empty client id/secret count as unset

  // A client id selects service mode, where this Deployment's --interval and --file do not apply:
  // the settings are refused as a configuration error rather than silently ignored.
  auto service = parse_with(args, env_of(secret, pod, {{"BATON_ORGANIZATION_ID", std::string(valid_org)},
                                                       {"BATON_CLIENT_ID", "id"}, {"BATON_CLIENT_SECRET", "s"}}));
  CHECK_FALSE(service.ok());
  CHECK(service.exit_code == bp::cli::exit_config);
}

TEST_CASE("deploy: the CronJob's settings parse as one batch sync") {
  auto secret = manifest("secret.yaml");
  auto cj = manifest("cronjob.yaml");
  auto pod = pod_of(cj.at("spec.jobTemplate.spec.template.spec"));
  auto r = parse_with(scalars(pod.container->at("args")),
                      env_of(secret, pod, {{"BATON_ORGANIZATION_ID", std::string(valid_org)}}));
  REQUIRE_MESSAGE(r.ok(), r.error);
  CHECK(r.cmd == bp::cli::command::sync);
  CHECK_FALSE(r.cfg.interval);
  CHECK(r.cfg.file == "/data/sync.c1z");
  // The job's deadline leaves room for the report wait.
  auto deadline = std::stoll(cj.str("spec.jobTemplate.spec.activeDeadlineSeconds"));
  CHECK(deadline > r.cfg.report_timeout.count());
}

namespace {

// A syntactically valid ConductorOne client secret (the RFC 8037 Ed25519 test key), and an id.
constexpr std::string_view test_client_id = "percipio@tenant.conductor.one/pcc";
constexpr std::string_view test_client_secret =
    "secret-token:conductorone.com:v1:eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwiZCI6Im5XR3huZV85V21DNmhFcjBrdXdzeEVSSnhX"
    "bDdNbWtaY0R1c0F4eXVmMkEiLCJ4IjoiMTFxWUFZS3hDcmZWU183VHlXUUhPZzdoY3ZQYXBpTWxyd0lhYVBjSFVSbyJ9";

// The runtime stage's ENV defaults of the Dockerfile (KEY=VALUE forms).
std::map<std::string, std::string> image_env() {
  const std::string text = bp::test::read_source_file("Dockerfile");
  const auto runtime = text.find("AS runtime");
  REQUIRE(runtime != std::string::npos);
  std::map<std::string, std::string> env;
  std::size_t pos = runtime;
  while ((pos = text.find("\nENV ", pos)) != std::string::npos) {
    pos += 5;
    const auto end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

}  // namespace

TEST_CASE("deploy: conductorone/secret.yaml is ConductorOne's documented Secret") {
  auto s = manifest("conductorone/secret.yaml");
  CHECK(s.str("apiVersion") == "v1");
  CHECK(s.str("kind") == "Secret");
  CHECK(s.str("metadata.name") == secret_name);
  const auto& data = s.at("stringData");
  REQUIRE(data.is_map());
  CHECK(data.keys() == std::vector<std::string>{"BATON_CLIENT_ID", "BATON_CLIENT_SECRET", "BATON_API_TOKEN",
                                                "BATON_ORGANIZATION_ID", "BATON_LIMITED_COURSES"});
  for (const auto& k : data.keys()) CHECK_MESSAGE(bp::test::known_env_names().count(k) == 1, k);
  check_env_words("deploy/kubernetes/conductorone/secret.yaml");
}

TEST_CASE("deploy: conductorone/deployment.yaml: labels, envFrom the Secret, no arguments, only an emptyDir") {
  auto d = manifest("conductorone/deployment.yaml");
  CHECK(d.str("apiVersion") == "apps/v1");
  CHECK(d.str("kind") == "Deployment");
  CHECK(d.str("metadata.name") == "baton-percipio");
  CHECK(d.str("metadata.labels.app") == "baton-percipio");
  CHECK(d.str("spec.selector.matchLabels.app") == "baton-percipio");
  check_labels(d.at("spec.template.metadata"));
  auto pod = pod_of(d.at("spec.template.spec"));
  const node& c = *pod.container;
  const auto& env_from = c.at("envFrom");
  REQUIRE(env_from.items.size() == 1);
  CHECK(env_from.items[0].str("secretRef.name") == secret_name);
  CHECK_FALSE(c.has("args"));
  CHECK_FALSE(c.has("command"));
  for (const auto& [name, value] : pod.env) CHECK_MESSAGE(bp::test::known_env_names().count(name) == 1, name);
  CHECK(pod.env.count("BATON_FILE") == 0);
  for (const auto& vol : pod.pod->at("volumes").items) CHECK_MESSAGE(vol.has("emptyDir"), vol.str("name"));
  // The read-only root file system needs the emptyDir where the sync files wait (the temp dir).
  CHECK(c.str("securityContext.readOnlyRootFilesystem") == "true");
  bool tmp_mounted = false;
  for (const auto& m : c.at("volumeMounts").items) tmp_mounted |= m.str("mountPath") == "/tmp";
  CHECK(tmp_mounted);
  check_env_words("deploy/kubernetes/conductorone/deployment.yaml");
}

TEST_CASE("deploy: the ConductorOne Secret and Deployment with the image's defaults select service mode") {
  auto secret = manifest("conductorone/secret.yaml");
  auto d = manifest("conductorone/deployment.yaml");
  auto pod = pod_of(d.at("spec.template.spec"));
  std::map<std::string, std::string> env = image_env();
  for (const auto& [k, v] : secret.at("stringData").entries) env[k] = v.value;
  for (const auto& [k, v] : pod.env) env[k] = v;
  env["BATON_ORGANIZATION_ID"] = std::string(valid_org);
  env["BATON_CLIENT_ID"] = std::string(test_client_id);
  env["BATON_CLIENT_SECRET"] = std::string(test_client_secret);
  bp::cli::env_lookup lookup = [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto r = parse_with({}, lookup);  // the Deployment passes no arguments
  REQUIRE_MESSAGE(r.ok(), r.error);
  CHECK(r.cmd == bp::cli::command::sync);
  CHECK(r.cfg.service_mode_requested());
  CHECK(r.cfg.host_id == "baton-percipio");
  CHECK_FALSE(r.cfg.interval);
}
