#include "baton_percipio/cli/config.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include "cli/test_env.hpp"

using namespace bp::cli;
using namespace bp::cli::test;
using namespace std::chrono_literals;

namespace {

std::string error_of(std::initializer_list<std::string_view> args, std::map<std::string, std::string> env = base_env()) {
  auto r = parse(args, std::move(env));
  CHECK_FALSE(r.ok());
  CHECK(r.exit_code == exit_config);
  CHECK(r.error.find('\n') == std::string::npos);
  return r.error;
}

}  // namespace

TEST_CASE("defaults with only the required settings") {
  auto r = parse({}, base_env());
  REQUIRE(r.ok());
  CHECK(r.cmd == command::sync);
  const config& c = r.cfg;
  CHECK(c.api_token == token);
  CHECK(c.organization_id == org);
  CHECK(c.limited_courses.empty());
  CHECK(c.file == "sync.c1z");
  CHECK(c.log_level == "info");
  CHECK(c.log_format == "json");
  CHECK(c.base_url == "https://api.percipio.com");
  CHECK(c.ca_file.empty());
  CHECK(c.concurrency == 8);
  CHECK(c.report_timeout == 6h);
  CHECK(c.report_lookback == std::chrono::hours(24 * 3650));
  CHECK_FALSE(c.interval);
  CHECK(c.metrics_addr.empty());
  CHECK(c.file_mode == 0600u);
  CHECK(c.c1z_temp_dir.empty());
  CHECK(c.max_page_bytes == 64ULL << 20);
  CHECK(c.max_report_bytes == 16ULL << 30);
  CHECK_FALSE(c.service_mode_requested());
}

TEST_CASE("every setting from flags, in both --flag value and --flag=value forms") {
  auto r = parse({"--api-token", "tok", "--organization-id=3FA85F64-5717-4562-B3FC-2C963F66AFA6",
                  "--limited-courses", "a,b", "-f", "out.c1z", "--log-level=debug", "--log-format", "console",
                  "--base-url", "eu", "--ca-file", "/tmp/ca.pem", "--concurrency=16", "--report-timeout", "90m",
                  "--report-lookback", "1y", "--interval", "6h", "--metrics-addr", "127.0.0.1:9100",
                  "--file-mode", "0640", "--c1z-temp-dir", "/tmp", "--max-page-bytes", "1M",
                  "--max-report-bytes=2G"});
  REQUIRE_MESSAGE(r.ok(), r.error);
  const config& c = r.cfg;
  CHECK(c.api_token == "tok");
  CHECK(c.organization_id == "3FA85F64-5717-4562-B3FC-2C963F66AFA6");
  CHECK(c.limited_courses == std::vector<std::string>{"a", "b"});
  CHECK(c.file == "out.c1z");
  CHECK(c.log_level == "debug");
  CHECK(c.log_format == "console");
  CHECK(c.base_url == "https://dew1-api.percipio.com");
  CHECK(c.ca_file == "/tmp/ca.pem");
  CHECK(c.concurrency == 16);
  CHECK(c.report_timeout == 90min);
  CHECK(c.report_lookback == std::chrono::hours(24 * 365));
  REQUIRE(c.interval);
  CHECK(*c.interval == 6h);
  CHECK(c.metrics_addr == "127.0.0.1:9100");
  CHECK(c.metrics_host == "127.0.0.1");
  CHECK(c.metrics_port == 9100);
  CHECK(c.file_mode == 0640u);
  CHECK(c.c1z_temp_dir == "/tmp");
  CHECK(c.max_page_bytes == 1u << 20);
  CHECK(c.max_report_bytes == 2ULL << 30);
}

TEST_CASE("short -f forms") {
  CHECK(parse({"-f", "a.c1z"}, base_env()).cfg.file == "a.c1z");
  CHECK(parse({"-f=b.c1z"}, base_env()).cfg.file == "b.c1z");
  CHECK(parse({"-fc.c1z"}, base_env()).cfg.file == "c.c1z");
}

TEST_CASE("every setting from BATON_* variables") {
  auto env = base_env();
  env["BATON_LIMITED_COURSES"] = "x, y ,,x";
  env["BATON_FILE"] = "env.c1z";
  env["BATON_LOG_LEVEL"] = "warn";
  env["BATON_LOG_FORMAT"] = "console";
  env["BATON_BASE_URL"] = "US";
  env["BATON_CA_FILE"] = "ca.pem";
  env["BATON_CONCURRENCY"] = "3";
  env["BATON_REPORT_TIMEOUT"] = "30s";
  env["BATON_REPORT_LOOKBACK"] = "30d";
  env["BATON_INTERVAL"] = "1h30m";
  env["BATON_METRICS_ADDR"] = ":9090";
  env["BATON_FILE_MODE"] = "644";
  env["BATON_C1Z_TEMP_DIR"] = "/var/tmp";
  env["BATON_MAX_PAGE_BYTES"] = "10K";
  env["BATON_MAX_REPORT_BYTES"] = "3G";
  auto r = parse({}, env);
  REQUIRE_MESSAGE(r.ok(), r.error);
  const config& c = r.cfg;
  CHECK(c.limited_courses == std::vector<std::string>{"x", "y"});
  CHECK(c.file == "env.c1z");
  CHECK(c.log_level == "warn");
  CHECK(c.log_format == "console");
  CHECK(c.base_url == "https://api.percipio.com");
  CHECK(c.ca_file == "ca.pem");
  CHECK(c.concurrency == 3);
  CHECK(c.report_timeout == 30s);
  CHECK(c.report_lookback == std::chrono::hours(24 * 30));
  CHECK(c.interval == std::optional<std::chrono::seconds>(90min));
  CHECK(c.metrics_host.empty());
  CHECK(c.metrics_port == 9090);
  CHECK(c.file_mode == 0644u);
  CHECK(c.c1z_temp_dir == "/var/tmp");
  CHECK(c.max_page_bytes == 10u << 10);
  CHECK(c.max_report_bytes == 3ULL << 30);
}

TEST_CASE("a flag wins over the environment, the environment over the default") {
  auto env = base_env();
  env["BATON_FILE"] = "env.c1z";
  env["BATON_CONCURRENCY"] = "4";
  env["BATON_LIMITED_COURSES"] = "e1,e2";
  auto r = parse({"--file", "flag.c1z", "--api-token", "flagtok", "--limited-courses", "f1"}, env);
  REQUIRE(r.ok());
  CHECK(r.cfg.file == "flag.c1z");
  CHECK(r.cfg.api_token == "flagtok");
  CHECK(r.cfg.concurrency == 4);  // env, no flag
  CHECK(r.cfg.limited_courses == std::vector<std::string>{"f1"});
  CHECK(r.cfg.log_level == "info");  // default
}

TEST_CASE("an empty value counts as not set") {
  auto env = base_env();
  env["BATON_FILE"] = "";
  env["BATON_CLIENT_ID"] = "";
  CHECK(parse({}, env).cfg.file == "sync.c1z");
  CHECK(parse({}, env).ok());
  env["BATON_FILE"] = "env.c1z";
  CHECK(parse({"--file="}, env).cfg.file == "env.c1z");
}

TEST_CASE("the last occurrence of a single-valued flag wins") {
  CHECK(parse({"-f", "a", "--file", "b"}, base_env()).cfg.file == "b");
}

TEST_CASE("limited courses: repeatable, comma-separated, trimmed, de-duplicated in order") {
  auto r = parse({"--limited-courses", "c1, c2", "--limited-courses=c3,,c1", "--limited-courses", " c4 "},
                 base_env());
  REQUIRE(r.ok());
  CHECK(r.cfg.limited_courses == std::vector<std::string>{"c1", "c2", "c3", "c4"});
  auto env = base_env();
  env["BATON_LIMITED_COURSES"] = "id1,id2";
  CHECK(parse({}, env).cfg.limited_courses == std::vector<std::string>{"id1", "id2"});
  CHECK(parse({"--limited-courses", " , "}, env).cfg.limited_courses == std::vector<std::string>{"id1", "id2"});
}

TEST_CASE("token and organization id are trimmed") {
  auto r = parse({"--api-token", " tok\n", "--organization-id", std::string_view(" 3fa85f64-5717-4562-b3fc-2c963f66afa6\n")});
  REQUIRE(r.ok());
  CHECK(r.cfg.api_token == "tok");
  CHECK(r.cfg.organization_id == org);
}

TEST_CASE("base url: names, absolute urls, loopback-only http") {
  auto with = [](std::string_view url) {
    auto env = base_env();
    env["BATON_BASE_URL"] = std::string(url);
    return parse({}, env);
  };
  CHECK(with("eu").cfg.base_url == "https://dew1-api.percipio.com");
  CHECK(with("EU").cfg.base_url == "https://dew1-api.percipio.com");
  CHECK(with("us").cfg.base_url == "https://api.percipio.com");
  CHECK(with("https://proxy.example.com/percipio/").cfg.base_url == "https://proxy.example.com/percipio");
  CHECK(with("http://127.0.0.1:8080").cfg.base_url == "http://127.0.0.1:8080");
  CHECK(with("http://localhost:1").ok());
  CHECK(with("http://[::1]:1").ok());
  CHECK(with("ftp://x").error ==
        R"(error: --base-url / BATON_BASE_URL must be us, eu or an absolute http(s) URL, got "ftp://x")");
  CHECK(with("api.percipio.com").error ==
        R"(error: --base-url / BATON_BASE_URL must be us, eu or an absolute http(s) URL, got "api.percipio.com")");
  CHECK(with("http://api.percipio.com").error ==
        R"(error: --base-url / BATON_BASE_URL must use https (plain http only for loopback hosts), got "http://api.percipio.com")");
}

TEST_CASE("missing required settings name the flag and the variable") {
  CHECK(error_of({}, {}) == "error: --api-token / BATON_API_TOKEN is required");
  CHECK(error_of({"--api-token", "t"}, {}) == "error: --organization-id / BATON_ORGANIZATION_ID is required");
  CHECK(error_of({"--organization-id", org}, {}) == "error: --api-token / BATON_API_TOKEN is required");
  CHECK(error_of({"--api-token", "   "}, {}) == "error: --api-token / BATON_API_TOKEN is required");
}

TEST_CASE("every malformed value has its own one-line message") {
  CHECK(error_of({"--organization-id", "abc"}) ==
        R"(error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got "abc")");
  CHECK(error_of({"--api-token", "a b"}) ==
        "error: --api-token / BATON_API_TOKEN must not contain spaces or control characters");
  CHECK(error_of({"--concurrency", "0"}) ==
        R"(error: --concurrency / BATON_CONCURRENCY must be an integer from 1 to 64, got "0")");
  CHECK(error_of({"--concurrency", "65"}) ==
        R"(error: --concurrency / BATON_CONCURRENCY must be an integer from 1 to 64, got "65")");
  CHECK(error_of({"--concurrency", "8x"}) ==
        R"(error: --concurrency / BATON_CONCURRENCY must be an integer from 1 to 64, got "8x")");
  CHECK(error_of({"--report-timeout", "6"}) ==
        R"(error: --report-timeout / BATON_REPORT_TIMEOUT must be a positive duration such as 6h, 90m or 30s, got "6")");
  CHECK(error_of({"--report-timeout", "0h"}) ==
        R"(error: --report-timeout / BATON_REPORT_TIMEOUT must be a positive duration such as 6h, 90m or 30s, got "0h")");
  CHECK(error_of({"--report-lookback", "ten years"}) ==
        R"(error: --report-lookback / BATON_REPORT_LOOKBACK must be a positive duration such as 3650d or 10y, got "ten years")");
  CHECK(error_of({"--interval", "daily"}) ==
        R"(error: --interval / BATON_INTERVAL must be a positive duration such as 6h, 90m or 30s, got "daily")");
  CHECK(error_of({"--metrics-addr", "9090"}) ==
        R"(error: --metrics-addr / BATON_METRICS_ADDR must be HOST:PORT, got "9090")");
  CHECK(error_of({"--file-mode", "0800"}) ==
        R"(error: --file-mode / BATON_FILE_MODE must be an octal mode up to 0777 such as 0600, got "0800")");
  CHECK(error_of({"--max-page-bytes", "lots"}) ==
        R"(error: --max-page-bytes / BATON_MAX_PAGE_BYTES must be a positive size such as 64M, got "lots")");
  CHECK(error_of({"--max-report-bytes", "0"}) ==
        R"(error: --max-report-bytes / BATON_MAX_REPORT_BYTES must be a positive size such as 16G, got "0")");
}

TEST_CASE("malformed values from the environment get the same message") {
  auto env = base_env();
  env["BATON_ORGANIZATION_ID"] = "not-a-uuid";
  CHECK(error_of({}, env) == R"(error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got "not-a-uuid")");
  env = base_env();
  env["BATON_CONCURRENCY"] = "many";
  CHECK(error_of({}, env) == R"(error: --concurrency / BATON_CONCURRENCY must be an integer from 1 to 64, got "many")");
}

TEST_CASE("shown values stay on one line and are shortened") {
  CHECK(error_of({"--organization-id", "a\nb"}) ==
        R"(error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got "a\nb")");
  std::string long_value(200, 'x');
  auto e = error_of({"--organization-id", long_value});
  CHECK(e == "error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got \"" + std::string(80, 'x') +
                 "...\"");
}

TEST_CASE("command-line syntax errors") {
  CHECK(error_of({"--nope"}) == R"(error: unknown flag "--nope" (see baton-percipio --help))");
  CHECK(error_of({"--nope=value"}) == R"(error: unknown flag "--nope" (see baton-percipio --help))");
  CHECK(error_of({"-x"}) == R"(error: unknown flag "-x" (see baton-percipio --help))");
  CHECK(error_of({"--file"}) == "error: flag --file needs a value");
  CHECK(error_of({"-f"}) == "error: flag -f needs a value");
  CHECK(error_of({"--help=yes"}) == "error: flag --help does not take a value");
  CHECK(error_of({"sink"}) == R"(error: unknown command "sink" for "baton-percipio" (see baton-percipio --help))");
  CHECK(error_of({"capabilities", "extra"}) == R"(error: unexpected argument "extra")");
  CHECK(error_of({"--sync-resources", "x"}) == "error: --sync-resources is not supported by baton-percipio");
  CHECK(error_of({"-p"}) == "error: -p / --provisioning is not supported by baton-percipio");
  // The first problem is reported, even when a later one would be too.
  CHECK(error_of({"--nope", "--organization-id", "bad"}) ==
        R"(error: unknown flag "--nope" (see baton-percipio --help))");
}

TEST_CASE("the token never appears in an error message") {
  const std::string secret(token);
  auto env = base_env();
  // Typed into the wrong flag, as a command, as an unknown flag's value, from the environment.
  for (auto r : {parse({"--api-token", secret, "--organization-id", secret}),
                 parse({secret}, env),
                 parse({"--file-mode", secret}, env),
                 parse({"--api-token", secret, "--concurrency", "x" + secret}),
                 parse({"--base-url", "https://h/" + secret + "?"}, env),
                 parse({"--api-tokn=" + secret}, env),
                 parse({"-x" + secret}, env)}) {
    CHECK_FALSE(r.ok());
    CHECK_MESSAGE(r.error.find(secret) == std::string::npos, r.error);
  }
  auto r = parse({"--api-token", secret, "--organization-id", secret});
  CHECK(r.error == R"(error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got "[REDACTED]")");
  auto with_secret = base_env();
  with_secret["BATON_CLIENT_SECRET"] = "client-secret-value";
  auto s = parse({"--organization-id", "client-secret-value"}, with_secret);
  CHECK(s.error.find("client-secret-value") == std::string::npos);
}

TEST_CASE("service mode: a client id selects it; its settings come from flags and the environment") {
  auto env = base_env();
  env["BATON_CLIENT_ID"] = "name@tenant.conductor.one/pcc";
  env["BATON_CLIENT_SECRET"] = "secret-token:conductorone.com:v1:abc";
  env["BATON_C1_API_HOST"] = "127.0.0.1:8443";
  env["BATON_HOST_ID"] = "pod-1";
  env["SSL_CERT_FILE"] = "/etc/c1/ca.pem";
  auto r = parse({}, env);
  REQUIRE_MESSAGE(r.ok(), r.error);
  CHECK(r.cfg.service_mode_requested());
  CHECK(r.cfg.client_id == "name@tenant.conductor.one/pcc");
  CHECK(r.cfg.c1_api_host == "127.0.0.1:8443");
  CHECK(r.cfg.host_id == std::optional<std::string>("pod-1"));
  CHECK(r.cfg.ssl_cert_file == "/etc/c1/ca.pem");
  CHECK(parse({"--client-id=x@h/s", "--client-secret", "y"}).cfg.service_mode_requested());
  // BATON_HOST_ID empty counts as unset (the host name is used).
  env["BATON_HOST_ID"] = "";
  CHECK_FALSE(parse({}, env).cfg.host_id);
  // At most 256 characters, the protocol's limit for host_id.
  env["BATON_HOST_ID"] = std::string(256, 'h');
  CHECK(parse({}, env).ok());
  env["BATON_HOST_ID"] = std::string(257, 'h');
  CHECK(error_of({}, env) == "error: BATON_HOST_ID must be at most 256 characters (ConductorOne refuses longer host "
                             "ids), got 257");
  env["BATON_HOST_ID"] = "";

  // The secret is required with the id; a secret alone is a mistake too.
  auto no_secret = base_env();
  no_secret["BATON_CLIENT_ID"] = "name@tenant.conductor.one/pcc";
  CHECK(error_of({}, no_secret) ==
        "error: --client-secret / BATON_CLIENT_SECRET is required with --client-id / BATON_CLIENT_ID (service mode)");
  CHECK(error_of({"--client-secret", "client-secret-value"}).find("--client-id / BATON_CLIENT_ID is not") !=
        std::string::npos);
  CHECK(error_of({"--client-secret", "client-secret-value"}).find("client-secret-value") == std::string::npos);

  // --interval and --file do not apply: ConductorOne schedules and receives the syncs.
  CHECK(error_of({"--interval", "6h"}, env).find("--interval / BATON_INTERVAL does not apply in service mode") == 7);
  CHECK(error_of({"-f", "x.c1z"}, env).find("--file / BATON_FILE is not used in service mode") == 7);
  auto file_env = env;
  file_env["BATON_FILE"] = "x.c1z";
  CHECK(error_of({}, file_env).find("--file / BATON_FILE") == 7);
  // The Percipio settings are still required.
  auto no_token = env;
  no_token.erase("BATON_API_TOKEN");
  CHECK(error_of({}, no_token) == "error: --api-token / BATON_API_TOKEN is required");
  // capabilities and config do not connect anywhere.
  CHECK(parse({"capabilities"}, env).ok());
  CHECK(parse({"config"}, env).ok());
}

TEST_CASE("subcommands") {
  CHECK(parse({"capabilities"}, base_env()).cmd == command::capabilities);
  CHECK(parse({"--log-level", "debug", "capabilities"}, base_env()).cmd == command::capabilities);
  CHECK(parse({"config"}).cmd == command::config_schema);
  CHECK(parse({"config"}).ok());  // needs no settings
  CHECK(parse({"help"}).cmd == command::help);
  CHECK(parse({"help", "capabilities"}).cmd == command::help);
  CHECK(parse({"--help"}).cmd == command::help);
  CHECK(parse({"-h", "--organization-id", "bad"}).cmd == command::help);
  CHECK(parse({"capabilities", "-h"}).cmd == command::help);
  CHECK(parse({"-v"}).cmd == command::version);
  CHECK(parse({"--version"}).ok());
  // capabilities validates like a sync.
  CHECK(parse({"capabilities"}).error == "error: --api-token / BATON_API_TOKEN is required");
  CHECK(parse({"capabilities", "--organization-id", "x"}, {{"BATON_API_TOKEN", "t"}}).exit_code == exit_config);
  auto i = parse({"--log-level", "debug", "inspect", "f.c1z", "--stats", "--json"});
  REQUIRE(i.ok());
  CHECK(i.cmd == command::inspect);
  CHECK(i.inspect_args == std::vector<std::string>{"f.c1z", "--stats", "--json"});
  CHECK(parse({"inspect", "--help"}).inspect_args == std::vector<std::string>{"--help"});
}

TEST_CASE("env variable names") {
  CHECK(env_var_name("api-token") == "BATON_API_TOKEN");
  CHECK(env_var_name("c1z-temp-dir") == "BATON_C1Z_TEMP_DIR");
  CHECK(env_var_name("limited-courses") == "BATON_LIMITED_COURSES");
}

TEST_CASE("path checks") {
  config c;
  CHECK_FALSE(check_paths(c));
  c.c1z_temp_dir = BP_BINARY_DIR;
  CHECK_FALSE(check_paths(c));
  c.c1z_temp_dir = "/nonexistent/dir";
  CHECK(check_paths(c) ==
        std::optional<std::string>(
            R"(error: --c1z-temp-dir / BATON_C1Z_TEMP_DIR must be an existing directory, got "/nonexistent/dir")"));
  c.c1z_temp_dir.clear();
  c.ca_file = BP_BINARY_DIR;  // a directory is not a CA file
  CHECK(check_paths(c) ==
        std::optional<std::string>(std::string(R"(error: --ca-file / BATON_CA_FILE must be a readable file, got ")") +
                                   BP_BINARY_DIR + "\""));
  c.ca_file = std::string(BP_BINARY_DIR) + "/CMakeCache.txt";  // readable, but no certificate in it
  CHECK(check_paths(c) ==
        std::optional<std::string>(std::string(R"(error: --ca-file / BATON_CA_FILE must be a PEM file with at least one CA certificate, got ")") +
                                   BP_BINARY_DIR + "/CMakeCache.txt\" (no PEM certificate in it)"));
  c.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // the system bundle (package ca-certificates)
  CHECK_FALSE(check_paths(c));
}

TEST_CASE("path errors do not echo secrets either") {
  config c;
  c.api_token = "tok123";
  c.c1z_temp_dir = "/nonexistent/tok123";
  auto e = check_paths(c);
  REQUIRE(e);
  CHECK(*e == R"(error: --c1z-temp-dir / BATON_C1Z_TEMP_DIR must be an existing directory, got "/nonexistent/[REDACTED]")");
}

TEST_CASE("a short token does not garble other text") {
  CHECK(error_of({"--api-token", "e", "--organization-id", "xyz"}, {}) ==
        R"(error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got "xyz")");
  CHECK(error_of({"--api-token", "x", "--organization-id", "x"}, {}) ==
        R"(error: --organization-id / BATON_ORGANIZATION_ID must be a UUID, got "[REDACTED]")");
}

TEST_CASE("--rate-limit / BATON_RATE_LIMIT: N/DURATION, 0 for none, Percipio's 100/20s by default") {
  CHECK(parse({}, base_env()).cfg.rate_limit == bp::rate_limit{100, 20s});
  CHECK(parse({"--rate-limit", "500/1m"}, base_env()).cfg.rate_limit == bp::rate_limit{500, 1min});
  CHECK(parse({"--rate-limit=5/500ms"}, base_env()).cfg.rate_limit == bp::rate_limit{5, 500ms});
  CHECK_FALSE(parse({"--rate-limit", "0"}, base_env()).cfg.rate_limit.enabled());
  auto env = base_env();
  env["BATON_RATE_LIMIT"] = "50/10s";
  CHECK(parse({}, env).cfg.rate_limit == bp::rate_limit{50, 10s});
  CHECK(parse({"--rate-limit", "0"}, env).cfg.rate_limit == bp::rate_limit{});  // the flag wins
  const std::string expect =
      "must be N/DURATION such as 100/20s or 500/1m (units ms, s, m, h), or 0 for none, got ";
  CHECK(error_of({"--rate-limit", "100"}) == "error: --rate-limit / BATON_RATE_LIMIT " + expect + R"("100")");
  CHECK(error_of({"--rate-limit", "100/20"}) == "error: --rate-limit / BATON_RATE_LIMIT " + expect + R"("100/20")");
  CHECK(error_of({"--rate-limit", "0/20s"}) == "error: --rate-limit / BATON_RATE_LIMIT " + expect + R"("0/20s")");
  env["BATON_RATE_LIMIT"] = "fast";
  CHECK(error_of({}, env) == "error: --rate-limit / BATON_RATE_LIMIT " + expect + R"("fast")");
}
