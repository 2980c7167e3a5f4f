// Syncs through a CONNECT proxy: a full sync over TLS to a name only the proxy resolves writes the
// same records as a direct sync; 407, refusal, garbage and a stalled proxy are clear errors naming
// the proxy; the proxy password reaches no output; loopback destinations are never proxied.
#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "baton_percipio/cli/app.hpp"
#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/net/error.hpp"
#include "baton_percipio/net/proxy_config.hpp"
#include "baton_percipio/net/retry.hpp"
#include "baton_percipio/sync/run.hpp"
#include "helpers.hpp"
#include "proxy/connect_proxy.hpp"
#include "scripted_server.hpp"
#include "sync_command.hpp"

using namespace bp::hardening;
namespace fx = bp::fixture;
using bp::test::connect_proxy;
using bp::test::proxy_options;

namespace {

constexpr std::string_view proxy_user = "proxy-user";
constexpr std::string_view proxy_password = "Pr0xy-Passw0rd-4711";

handler forward_to(const fx::background_server& up) {
  const std::uint16_t port = up.port();
  return [port](std::size_t, const http_request& req, connection& c) { c.write(forward(port, req)); };
}

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

bp::net::proxy_config proxy_from(const std::string& url, std::map<std::string, std::string> env = {}) {
  auto r = bp::net::make_proxy_config(url, "--proxy", [env](std::string_view n) -> std::optional<std::string> {
    auto it = env.find(std::string(n));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  REQUIRE_MESSAGE(r.error.empty(), r.error);
  return r.config;
}

std::string sync_error_text(const bp::sync::options& o) {
  try {
    bp::sync::run_sync(o);
  } catch (const bp::sync::sync_error& e) {
    return e.what();
  }
  return "(no error)";
}

// The report is ready at the first poll, so the CLI's default poll waits cost nothing.
fx::options ready_report() {
  fx::options o;
  o.pending_polls = 0;
  return o;
}

// A TLS front for the fixture whose certificate names percipio.test (and 127.0.0.1).
struct tls_upstream {
  std::shared_ptr<fx::generated_tenant> tenant = small_tenant(40, 30, 200);
  fx::background_server up{tenant, ready_report()};
  test_cert cert = test_cert::make("percipio.test");
  scripted_server tls{forward_to(up), &cert};
  std::string proxied_url() const { return "https://percipio.test:" + std::to_string(tls.port()); }
};

}  // namespace

TEST_CASE("proxy: a full sync through an authenticating CONNECT proxy matches a direct sync") {
  scratch_dir dir;
  tls_upstream u;
  proxy_options po;
  po.user = proxy_user;
  po.password = proxy_password;
  po.hosts = {{"percipio.test", "127.0.0.1"}};
  connect_proxy px(po);
  const std::string ca = u.cert.write_cert(dir.path().string());

  // Direct, by address.
  auto direct = fast_options("https://127.0.0.1:" + std::to_string(u.tls.port()), dir / "direct.c1z");
  direct.http.ca_file = ca;
  check_matches_expected(bp::sync::run_sync(direct), *u.tenant, dir / "direct.c1z");
  CHECK(px.records().empty());

  // Through the proxy, by a name that does not exist outside the proxy: the client must not resolve it.
  auto o = fast_options(u.proxied_url(), dir / "proxied.c1z");
  o.http.ca_file = ca;
  o.http.proxy = proxy_from(px.url(std::string(proxy_user) + ":" + std::string(proxy_password)));
  check_matches_expected(bp::sync::run_sync(o), *u.tenant, dir / "proxied.c1z");
  const auto records = px.records();
  REQUIRE_FALSE(records.empty());
  CHECK(px.tunnels() == records.size());
  for (const auto& r : records) {
    CHECK(r.target == "percipio.test:" + std::to_string(u.tls.port()));
    CHECK(r.host_header == r.target);
    CHECK(r.proxy_authorization == "Basic cHJveHktdXNlcjpQcjB4eS1QYXNzdzByZC00NzEx");
  }
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("proxy: the CLI with --ca-file and HTTPS_PROXY or --proxy syncs through the proxy") {
  scratch_dir dir;
  tls_upstream u;
  proxy_options po;
  po.hosts = {{"percipio.test", "127.0.0.1"}};
  connect_proxy px(po);
  const std::string ca = u.cert.write_cert(dir.path().string());
  bp::cli::hooks h;
  h.run_sync = bp::cli::run_sync_command;
  auto run = [&](std::vector<std::string> extra, std::map<std::string, std::string> vars) {
    std::vector<std::string> args = {"--base-url", u.proxied_url(), "--file", (dir / "out.c1z").string(), "--ca-file",
                                     ca, "--log-format", "console", "--concurrency", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string_view> views(args.begin(), args.end());
    vars["BATON_API_TOKEN"] = std::string(fx::demo_token);
    vars["BATON_ORGANIZATION_ID"] = std::string(fx::demo_org_id);
    auto env = [&vars](std::string_view name) -> std::optional<std::string> {
      auto it = vars.find(std::string(name));
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    std::ostringstream out, err;
    const int code = bp::cli::run_cli(views, env, h, out, err);
    return std::pair{code, err.str()};
  };
  auto [by_env, log1] = run({}, {{"https_proxy", px.url()}});
  CHECK_MESSAGE(by_env == bp::cli::exit_ok, log1);
  const auto after_env = px.records().size();
  CHECK(after_env > 0);
  // --proxy wins over the environment (which points at nothing that listens).
  auto [by_flag, log2] = run({"--proxy", px.url()}, {{"HTTPS_PROXY", "http://127.0.0.1:1"}});
  CHECK_MESSAGE(by_flag == bp::cli::exit_ok, log2);
  CHECK(px.records().size() > after_env);
  // Not an http:// proxy: exit 2 naming the setting.
  auto [bad, log4] = run({"--proxy", "socks5://u:SocksPassw0rd@127.0.0.1:1080"}, {});
  CHECK(bad == bp::cli::exit_config);
  CHECK_MESSAGE(contains(log4, "error: --proxy / BATON_PROXY must be an http:// proxy URL"), log4);
  CHECK_FALSE(contains(log4, "SocksPassw0rd"));
  quiet_logs();
}

TEST_CASE("proxy: 407 is fatal, names the proxy, and the password appears in no output") {
  scratch_dir dir;
  tls_upstream u;
  proxy_options po;
  po.user = proxy_user;
  po.password = "the-right-one";
  po.hosts = {{"percipio.test", "127.0.0.1"}};
  connect_proxy px(po);
  const std::string ca = u.cert.write_cert(dir.path().string());
  const std::string proxy_url = px.url(std::string(proxy_user) + ":" + std::string(proxy_password));

  struct capture : bp::log::sink {
    std::string text;
    void write(std::string_view line) override { text += line; }
  } logs;
  bp::log::set_sink(&logs);
  bp::log::set_redaction(false);  // prove the password is never written, not merely masked
  bp::cli::hooks h;
  h.run_sync = bp::cli::run_sync_command;
  std::vector<std::string> args = {"--base-url", u.proxied_url(), "--file", (dir / "out.c1z").string(),
                                   "--ca-file", ca, "--log-level", "debug", "--concurrency", "1"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto env = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "BATON_API_TOKEN") return std::string(fx::demo_token);
    if (name == "BATON_ORGANIZATION_ID") return std::string(fx::demo_org_id);
    if (name == "HTTPS_PROXY") return proxy_url;
    return std::nullopt;
  };
  std::ostringstream out, err;
  const int code = bp::cli::run_cli(views, env, h, out, err);
  bp::log::set_redaction(true);
  bp::log::set_sink(nullptr);
  quiet_logs();

  const std::string all = logs.text + err.str() + out.str();
  INFO(all);
  CHECK(code == bp::cli::exit_upstream);
  CHECK(contains(all, "proxy 127.0.0.1:" + std::to_string(px.port()) + " requires authentication (HTTP 407"));
  CHECK(contains(all, "rejected the user and password"));
  CHECK_FALSE(contains(all, proxy_password));
  CHECK_FALSE(contains(all, "cHJveHktdXNlcjpQcjB4eS1QYXNzdzByZC00NzEx"));  // the Basic value
  CHECK_FALSE(contains(all, proxy_url));
  // Not retried: one CONNECT per request the sync started before failing (concurrency 1: few).
  CHECK(px.records().size() <= 3);
  CHECK_FALSE(fs::exists(dir / "out.c1z"));

  bp::net::retry_policy p;
  bp::net::attempt_info info;
  info.ec = bp::net::errc::proxy_auth_required;
  CHECK(p.decide(info).action == bp::net::retry_action::fail);
  info.ec = bp::net::errc::proxy_refused;
  CHECK(p.decide(info).action == bp::net::retry_action::retry);
}

TEST_CASE("proxy: refusal, garbage and a stalled proxy are clear errors naming the proxy") {
  scratch_dir dir;
  tls_upstream u;
  auto run_with = [&](proxy_options po) {
    connect_proxy px(po);
    auto o = fast_options(u.proxied_url(), dir / "out.c1z");
    o.api.retry.max_attempts = 1;
    o.http.t.first_byte = std::chrono::milliseconds(300);
    o.http.t.idle_read = std::chrono::milliseconds(300);
    o.http.proxy = proxy_from(px.url());
    const std::string msg = sync_error_text(o);
    return std::pair{msg, "proxy 127.0.0.1:" + std::to_string(px.port())};
  };
  proxy_options po;
  po.mode = proxy_options::behaviour::refuse;
  auto [refused, name1] = run_with(po);
  CHECK_MESSAGE(contains(refused, name1 + " refused the CONNECT tunnel (HTTP 403 Refused By Policy)"), refused);
  po.mode = proxy_options::behaviour::garbage;
  auto [garbage, name2] = run_with(po);
  CHECK_MESSAGE(contains(garbage, name2 + " answered CONNECT with something other than HTTP"), garbage);
  po.mode = proxy_options::behaviour::stall;
  auto [stalled, name3] = run_with(po);
  CHECK_MESSAGE(contains(stalled, name3 + " did not answer CONNECT in time"), stalled);
  for (const auto* m : {&refused, &garbage, &stalled}) CHECK_FALSE(contains(*m, "certificate"));
  // Nothing listens at the proxy's address: the connect error names the proxy.
  auto o = fast_options(u.proxied_url(), dir / "out.c1z");
  o.api.retry.max_attempts = 1;
  o.http.proxy = proxy_from("http://127.0.0.1:1");
  const std::string unreachable = sync_error_text(o);
  CHECK_MESSAGE(contains(unreachable, "connect proxy 127.0.0.1:1: "), unreachable);
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
}

TEST_CASE("proxy: loopback destinations are connected directly even with HTTPS_PROXY set") {
  scratch_dir dir;
  tls_upstream u;
  proxy_options po;
  po.mode = proxy_options::behaviour::refuse;
  connect_proxy px(po);
  const auto cfg = proxy_from("", {{"HTTPS_PROXY", px.url()}});
  REQUIRE(cfg.https_proxy);
  for (std::string host : {"127.0.0.1", "localhost"}) {
    auto o = fast_options("https://" + host + ":" + std::to_string(u.tls.port()), dir / "out.c1z");
    o.http.ca_file = u.cert.write_cert(dir.path().string());
    o.http.proxy = cfg;
    const std::string msg = sync_error_text(o);
    // The certificate has no "localhost" name: that one fails at verification, never at the proxy.
    if (host == "127.0.0.1") {
      CHECK_MESSAGE(msg == "(no error)", msg);
    } else {
      CHECK_MESSAGE(contains(msg, "certificate verification failed for localhost"), msg);
    }
  }
  CHECK(px.records().empty());
}
