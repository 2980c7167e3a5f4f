// The API token never leaves memory: a full sync at debug level (with the request logs), a sync with
// a wrong token (401) and a configuration error are run with a distinctive token, and every log
// line, the summary text and JSON, error messages, the CLI's output streams, the c1z bytes and its
// decompressed database are searched for it. The strict runs clear the logger's secret list first, so
// a pass means nothing even tried to write the token (redaction is only the second line of defence).
#include <doctest/doctest.h>

#include <zstd.h>

#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "baton_percipio/cli/app.hpp"
#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/sync/run.hpp"
#include "helpers.hpp"
#include "sync_command.hpp"

using namespace bp::hardening;
namespace fx = bp::fixture;

namespace {

constexpr std::string_view token = "Tk9-distinctive-7QmZx2VwL8pR4s-token";
constexpr std::string_view wrong_token = "Wr0ng-distinctive-J3nK8bY5tH1c-token";

struct capture_sink final : bp::log::sink {
  std::mutex mu;
  std::string text;
  std::size_t lines = 0;
  void write(std::string_view line) override {
    std::lock_guard lock(mu);
    text.append(line);
    ++lines;
  }
};

// Captures every log line at debug level while alive; restores quiet stderr logging afterwards.
struct log_capture {
  capture_sink sink;
  explicit log_capture(bool strict) {
    // Strict: redaction off for the whole test, so a token that reaches a line or an error message
    // shows up as itself (the client and the CLI register it again when they start).
    if (strict) bp::log::set_redaction(false);
    bp::log::set_sink(&sink);
    bp::log::configure(bp::log::level::debug, bp::log::format::json);
  }
  ~log_capture() {
    bp::log::set_redaction(true);
    bp::log::set_sink(nullptr);
    bp::log::set_sync_id("");
    quiet_logs();
  }
};

std::string decompressed_database(const std::string& c1z) {
  REQUIRE(c1z.size() > 5);
  ZSTD_DStream* ds = ZSTD_createDStream();
  std::string out;
  std::vector<char> buf(1 << 16);
  ZSTD_inBuffer in{c1z.data() + 5, c1z.size() - 5, 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    const std::size_t r = ZSTD_decompressStream(ds, &o, &in);
    REQUIRE_FALSE(ZSTD_isError(r));
    out.append(buf.data(), o.pos);
  }
  ZSTD_freeDStream(ds);
  return out;
}

std::vector<fx::org> orgs_with_token() {
  return {fx::org{fx::demo_org_id, std::string(token), small_tenant(40, 40, 300)}};
}

// The report is ready at the first poll: the CLI's poll timing (2 s first poll) is not configurable.
fx::options ready_report() {
  fx::options o;
  o.pending_polls = 0;
  return o;
}

// Also the token's base64 and its Bearer header form would be leaks; the raw token covers both
// forms we could plausibly write (we never encode it).
void check_clean(std::string_view what, const std::string& text, std::string_view secret = token) {
  INFO(what);
  CHECK(text.find(secret) == std::string::npos);
}

}  // namespace

TEST_CASE("token: the strict capture shows a token that reaches a line (the checks below can fail)") {
  std::string logs;
  {
    log_capture cap(true);
    bp::log::add_secret(std::string(token));
    bp::log::info("planted", {{"value", std::string(token)}});
    logs = cap.sink.text;
  }
  CHECK(logs.find(token) != std::string::npos);
  CHECK(bp::log::redact(std::string(token)).find(token) == std::string::npos);  // redaction is back on
}

TEST_CASE("token: a full debug-level sync writes it nowhere") {
  scratch_dir dir;
  fx::background_server up(orgs_with_token());
  auto o = fast_options(up.base_url(), dir / "out.c1z");
  o.api.token = std::string(token);
  bp::sync::summary s;
  std::string logs;
  std::size_t lines = 0;
  {
    log_capture cap(true);
    s = bp::sync::run_sync(o);
    logs = cap.sink.text;
    lines = cap.sink.lines;
  }
  CHECK(lines > 10);
  CHECK(logs.find("http request") != std::string::npos);  // the debug request logs were on
  check_clean("logs", logs);
  check_clean("summary text", s.to_text());
  check_clean("summary json", s.to_json());
  const std::string file = read_file(dir / "out.c1z");
  check_clean("c1z bytes", file);
  check_clean("database", decompressed_database(file));
}

TEST_CASE("token: a wrong token (401) appears in no log, error or summary") {
  scratch_dir dir;
  fx::background_server up(orgs_with_token());
  auto o = fast_options(up.base_url(), dir / "out.c1z");
  o.api.token = std::string(wrong_token);
  std::string logs, error;
  bp::sync::summary s;
  bp::sync::failure_kind kind = bp::sync::failure_kind::internal;
  {
    log_capture cap(true);
    try {
      bp::sync::run_sync(o, {}, &s);
    } catch (const bp::sync::sync_error& e) {
      error = e.what();
      kind = e.kind();
    }
    logs = cap.sink.text;
  }
  CHECK(kind == bp::sync::failure_kind::auth);
  CHECK(error.find("401") != std::string::npos);
  for (auto secret : {wrong_token, token}) {
    check_clean("logs", logs, secret);
    check_clean("error", error, secret);
    check_clean("summary text", s.to_text(), secret);
    check_clean("summary json", s.to_json(), secret);
  }
  CHECK_FALSE(fs::exists(dir / "out.c1z"));
}

TEST_CASE("token: through the CLI (flag or environment), including errors, nothing carries it") {
  scratch_dir dir;
  fx::background_server up(orgs_with_token(), ready_report());
  const std::string file = (dir / "out.c1z").string();
  const std::string base = up.base_url();
  bp::cli::hooks h;
  h.run_sync = bp::cli::run_sync_command;
  struct run_out {
    int code;
    std::string out, err, logs;
  };
  auto run = [&](std::vector<std::string> args, std::map<std::string, std::string> env) {
    std::vector<std::string_view> views(args.begin(), args.end());
    auto lookup = [env](std::string_view name) -> std::optional<std::string> {
      if (auto it = env.find(std::string(name)); it != env.end()) return it->second;
      return std::nullopt;
    };
    std::ostringstream out, err;
    log_capture cap(true);
    const int code = bp::cli::run_cli(views, lookup, h, out, err);
    return run_out{code, out.str(), err.str(), cap.sink.text};
  };
  const std::vector<std::string> common = {"--base-url", base, "--organization-id", fx::demo_org_id, "--file", file,
                                           "--log-level", "debug", "--concurrency", "2"};
  SUBCASE("token as a flag, a full sync") {
    auto args = common;
    args.insert(args.end(), {"--api-token", std::string(token)});
    auto r = run(args, {});
    CHECK(r.code == bp::cli::exit_ok);
    CHECK(r.logs.find("http request") != std::string::npos);
    for (const auto& [what, text] : {std::pair{"stdout", r.out}, {"stderr", r.err}, {"logs", r.logs}})
      check_clean(what, text);
    check_clean("c1z", read_file(file));
  }
  SUBCASE("wrong token from the environment: exit 3, nothing carries it") {
    auto r = run(common, {{"BATON_API_TOKEN", std::string(wrong_token)}});
    CHECK(r.code == bp::cli::exit_auth);
    for (const auto& [what, text] : {std::pair{"stdout", r.out}, {"stderr", r.err}, {"logs", r.logs}})
      check_clean(what, text, wrong_token);
  }
  SUBCASE("a configuration error next to the token") {
    auto r = run({"--api-token", std::string(token), "--organization-id", std::string(token), "--concurrency", "0"}, {});
    CHECK(r.code == bp::cli::exit_config);
    for (const auto& [what, text] : {std::pair{"stdout", r.out}, {"stderr", r.err}, {"logs", r.logs}})
      check_clean(what, text);
  }
}
