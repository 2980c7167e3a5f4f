// TLS and URL policy end to end: self-signed, wrong-host and expired certificates are refused with a
// clear message (and never retried into a success); a trusted certificate works through a TLS proxy;
// plain http:// is accepted only for loopback hosts, by the CLI and by the client underneath it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "baton_percipio/cli/app.hpp"
#include "baton_percipio/cli/config.hpp"
#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/sync/run.hpp"
#include "helpers.hpp"
#include "scripted_server.hpp"
#include "sync_command.hpp"

using namespace bp::hardening;
namespace fx = bp::fixture;
using bp::sync::failure_kind;
using bp::sync::sync_error;

namespace {

std::string sync_error_text(const bp::sync::options& o, failure_kind* kind = nullptr) {
  try {
    bp::sync::run_sync(o);
  } catch (const sync_error& e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "(no error)";
}

handler forward_to(const fx::background_server& up) {
  const std::uint16_t port = up.port();
  return [port](std::size_t, const http_request& req, connection& c) { c.write(forward(port, req)); };
}

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("TLS: a trusted certificate for the right host works end to end") {
  scratch_dir dir;
  fx::background_server up(small_tenant(20, 20, 100));
  const auto cert = test_cert::make("localhost");
  scripted_server tls(forward_to(up), &cert);
  auto o = fast_options(tls.base_url("127.0.0.1"), dir / "out.c1z");
  o.http.ca_file = cert.write_cert(dir.path().string());
  auto s = bp::sync::run_sync(o);
  CHECK(s.users == 20);
  o.api.base_url = tls.base_url("localhost");  // by name too
  CHECK(bp::sync::run_sync(o).users == 20);
}

TEST_CASE("TLS: SSL_CERT_FILE adds a CA to the system store (OpenSSL alone would replace the store)") {
  scratch_dir dir;
  fx::background_server up(small_tenant(20, 20, 100));
  const auto cert = test_cert::make("localhost");
  scripted_server tls(forward_to(up), &cert);
  const std::string ca = cert.write_cert(dir.path().string());
  auto o = fast_options(tls.base_url("127.0.0.1"), dir / "out.c1z");
  ::setenv("SSL_CERT_FILE", ca.c_str(), 1);
  std::string error;
  try {
    CHECK(bp::sync::run_sync(o).users == 20);  // the private CA from SSL_CERT_FILE is trusted
  } catch (const sync_error& e) {
    error = e.what();
  }
  ::unsetenv("SSL_CERT_FILE");
  CHECK_MESSAGE(error.empty(), error);
  // Without it, the same server is refused.
  CHECK(contains(sync_error_text(o), "certificate"));
}

TEST_CASE("TLS: untrusted, wrong-host and expired certificates are refused with a clear message") {
  scratch_dir dir;
  fx::background_server up(small_tenant(20, 20, 100));
  failure_kind kind = failure_kind::internal;

  SUBCASE("self-signed, not in the trust store") {
    const auto cert = test_cert::make("localhost");
    scripted_server tls(forward_to(up), &cert);
    const auto msg = sync_error_text(fast_options(tls.base_url(), dir / "out.c1z"), &kind);
    INFO(msg);
    CHECK(kind == failure_kind::upstream);
    CHECK(contains(msg, "certificate verification failed"));
    CHECK(contains(msg, "self"));
    CHECK(tls.requests() == 0);  // no request was ever sent over it
  }
  SUBCASE("trusted, but issued for another host name") {
    const auto cert = test_cert::make("other.example", "");
    scripted_server tls(forward_to(up), &cert);
    auto o = fast_options(tls.base_url("localhost"), dir / "out.c1z");
    o.http.ca_file = cert.write_cert(dir.path().string());
    const auto msg = sync_error_text(o, &kind);
    INFO(msg);
    CHECK(kind == failure_kind::upstream);
    CHECK(contains(msg, "certificate verification failed for localhost"));
    CHECK(contains(msg, "mismatch"));
    o.api.base_url = tls.base_url("127.0.0.1");
    const auto msg_ip = sync_error_text(o, &kind);
    INFO(msg_ip);
    CHECK(contains(msg_ip, "mismatch"));
    CHECK(tls.requests() == 0);
  }
  SUBCASE("trusted, right host, expired") {
    const auto cert = test_cert::make("localhost", "127.0.0.1", -2);
    scripted_server tls(forward_to(up), &cert);
    auto o = fast_options(tls.base_url(), dir / "out.c1z");
    o.http.ca_file = cert.write_cert(dir.path().string());
    const auto msg = sync_error_text(o, &kind);
    INFO(msg);
    CHECK(kind == failure_kind::upstream);
    CHECK(contains(msg, "expired"));
    CHECK(tls.requests() == 0);
  }
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
  CHECK(temp_leftovers(dir.path()).empty());
}

TEST_CASE("CLI: --ca-file trusts a private CA; without it the self-signed server is refused (exit 4)") {
  scratch_dir dir;
  fx::background_server up(small_tenant(20, 20, 100));
  const auto cert = test_cert::make("localhost");
  scripted_server tls(forward_to(up), &cert);
  const std::string ca = cert.write_cert(dir.path().string());
  bp::cli::hooks h;
  h.run_sync = bp::cli::run_sync_command;
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--base-url", tls.base_url("localhost"), "--file", (dir / "out.c1z").string(),
                                     "--log-format", "console", "--concurrency", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string_view> views(args.begin(), args.end());
    auto env = [](std::string_view name) -> std::optional<std::string> {
      if (name == "BATON_API_TOKEN") return std::string(fx::demo_token);
      if (name == "BATON_ORGANIZATION_ID") return std::string(fx::demo_org_id);
      return std::nullopt;
    };
    std::ostringstream out, err;
    const int code = bp::cli::run_cli(views, env, h, out, err);
    return std::pair{code, err.str()};
  };
  auto [refused, why] = run({});
  CHECK(refused == bp::cli::exit_upstream);
  CHECK(contains(why, "certificate verification failed"));
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
  auto [ok, log] = run({"--ca-file", ca});
  CHECK_MESSAGE(ok == bp::cli::exit_ok, log);
  CHECK(fs::exists(dir / "out.c1z"));
  // A limit flag reaches the client: pages above 1 KiB are refused.
  auto [limited, msg] = run({"--ca-file", ca, "--max-page-bytes", "1K"});
  CHECK(limited == bp::cli::exit_upstream);
  CHECK_MESSAGE(contains(msg, "too large"), msg);
}

TEST_CASE("plain http:// base URLs: loopback only, in the CLI and in the client") {
  const auto env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "BATON_API_TOKEN") return std::string("t0ken-for-url-tests");
    if (name == "BATON_ORGANIZATION_ID") return std::string(fx::demo_org_id);
    return std::nullopt;
  };
  for (const char* ok : {"http://127.0.0.1:8080", "http://localhost:1234/", "http://[::1]:80", "http://127.9.9.9",
                         "https://api.percipio.com", "https://dew1-api.percipio.com"}) {
    std::vector<std::string_view> args = {"--base-url", ok};
    auto r = bp::cli::parse_config(args, env);
    CHECK_MESSAGE(r.ok(), ok << ": " << r.error);
  }
  for (const char* bad : {"http://api.percipio.com", "http://127.0.0.1.example.com", "http://localhost.evil.example",
                          "http://10.0.0.1:8080", "http://[::2]:80", "http://0.0.0.0:80", "ftp://127.0.0.1"}) {
    std::vector<std::string_view> args = {"--base-url", bad};
    auto r = bp::cli::parse_config(args, env);
    CHECK_MESSAGE(!r.ok(), bad);
    CHECK(r.exit_code == bp::cli::exit_config);
  }
  // Underneath the CLI the client refuses too, before any connection or DNS lookup.
  scratch_dir dir;
  failure_kind kind = failure_kind::internal;
  const auto msg = sync_error_text(fast_options("http://api.percipio.invalid", dir / "out.c1z"), &kind);
  INFO(msg);
  CHECK(kind == failure_kind::upstream);
  CHECK(contains(msg, "only https"));
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
}
