// The --interval loop in-process against the fixture server, with a fake clock and sleeper: syncs
// per interval, a failed sync keeps the last good file, stop requests end it promptly, and the
// metrics endpoint reports what happened.
#include "daemon.hpp"
#include "sync_command.hpp"

#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <vector>

#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/recorded_tenant.hpp"
#include "daemon/scrape.hpp"
#include "sync/sync_test_env.hpp"

namespace fs = std::filesystem;
namespace fx = bp::fixture;
using namespace std::chrono_literals;
using namespace bp::cli;
using bp::daemon_test::fetch;
using bp::daemon_test::sample;
using bp::sync::test::fast_options;
using bp::sync::test::read_bytes;
using bp::sync::test::scratch_dir;

namespace {

std::shared_ptr<fx::recorded_tenant> recorded() {
  std::string err;
  auto t = fx::recorded_tenant::load(std::string(BP_SOURCE_DIR) + "/tests/fixtures/percipio/recorded-small", &err);
  REQUIRE_MESSAGE(t, err);
  return t;
}

// Fake time: every sync "takes" 10 s, every sleep jumps to its deadline; the sleep after
// `sleeps_before_stop` sleeps requests the stop instead.
struct fake_time {
  steady::time_point t{std::chrono::hours(1000)};
  std::vector<steady::duration> waits;
  std::size_t sleeps_before_stop = 1;

  void attach(runner_hooks& h) {
    h.now = [this] { return t; };
    h.sleep_until = [this](steady::time_point until, stop_signal& stop) {
      waits.push_back(until - t);
      if (waits.size() > sleeps_before_stop) {
        stop.request_stop();
        return false;
      }
      t = std::max(t, until);
      return true;
    };
  }
};

// Collects log lines (JSON) from every thread.
struct capture_sink : bp::log::sink {
  std::mutex mu;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> on_line;
  void write(std::string_view line) override {
    {
      std::lock_guard lock(mu);
      lines.emplace_back(line);
    }
    if (on_line) on_line(line);
  }
};

struct sink_guard {
  explicit sink_guard(bp::log::sink* s) { bp::log::set_sink(s); }
  ~sink_guard() { bp::log::set_sink(nullptr); }
};

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("retry_delay: 30 s doubling, capped at the interval") {
  daemon_settings s;
  s.interval = 1h;
  CHECK(retry_delay(s, 1) == 30s);
  CHECK(retry_delay(s, 2) == 60s);
  CHECK(retry_delay(s, 3) == 120s);
  CHECK(retry_delay(s, 7) == 1920s);
  CHECK(retry_delay(s, 8) == 1h);
  CHECK(retry_delay(s, 1000) == 1h);
  s.interval = 10s;
  CHECK(retry_delay(s, 1) == 10s);
}

TEST_CASE("stop_signal: a stop wakes the sleep at once") {
  stop_signal stop;
  const auto t0 = steady::now();
  auto waiter = std::async(std::launch::async, [&] { return stop.wait_until(steady::now() + 1h); });
  stop.request_stop();
  CHECK_FALSE(waiter.get());
  CHECK(steady::now() - t0 < 5s);
  CHECK(stop.sync_source().stop_requested());
  CHECK_FALSE(stop.wait_until(steady::now() + 1h));  // stays stopped
  stop_signal idle;
  CHECK(idle.wait_until(steady::now()));  // deadline reached, no stop
}

TEST_CASE("two intervals produce two syncs with different sync ids; every sync line carries its id") {
  auto tenant = recorded();
  fx::background_server server(tenant);
  scratch_dir dir;
  const auto dest = dir / "out.c1z";
  auto opts = fast_options(server, dest);

  capture_sink sink;
  sink_guard sg(&sink);
  stop_signal stop;
  bp::metrics::registry reg;
  fake_time ft;
  ft.sleeps_before_stop = 1;
  runner_hooks h;
  ft.attach(h);
  h.run_sync = [&](const bp::sync::options& o, const bp::sync::run_control& c, bp::sync::summary* s) {
    ft.t += 10s;
    return bp::sync::run_sync(o, c, s);
  };
  std::vector<std::string> ids;
  h.on_sync_done = [&](const sync_outcome& o) {
    REQUIRE(o.ok);
    bp::c1z::reader r(dest);
    CHECK(r.sync().sync_id == o.summary.sync_id);
    ids.push_back(r.sync().sync_id);
  };
  daemon_settings ds;
  ds.interval = 1h;
  auto res = run_daemon(opts, ds, stop, &reg, h);

  CHECK(res.exit_code == exit_ok);
  CHECK(res.syncs_succeeded == 2);
  CHECK(res.syncs_failed == 0);
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] != ids[1]);
  // The next sync is due an interval after the previous one started.
  REQUIRE(ft.waits.size() == 2);
  CHECK(ft.waits[0] == 1h - 10s);
  CHECK(ft.waits[1] == 1h - 10s);
  CHECK(entries(dir.path()) == 1);

  auto snap = reg.snap();
  CHECK(snap.syncs_started == 2);
  CHECK(snap.syncs_succeeded == 2);
  CHECK_FALSE(snap.sync_in_progress);

  // Lines of a sync carry its id; the daemon's own lines between syncs carry none.
  std::size_t started = 0, finished = 0, scheduled = 0;
  for (const auto& line : sink.lines) {
    const bool has_id = line.find("\"sync_id\":") != std::string::npos;
    if (line.find("\"sync started\"") != std::string::npos) {
      CHECK(line.find("\"sync_id\":\"" + ids[started]) != std::string::npos);
      ++started;
    } else if (line.find("\"sync finished\"") != std::string::npos) {
      CHECK(line.find("\"sync_id\":\"" + ids[finished]) != std::string::npos);
      ++finished;
    } else if (line.find("\"next sync scheduled\"") != std::string::npos ||
               line.find("\"daemon stopped\"") != std::string::npos) {
      CHECK_FALSE(has_id);
      ++scheduled;
    }
  }
  CHECK(started == 2);
  CHECK(finished == 2);
  CHECK(scheduled == 3);
}

TEST_CASE("a failed second sync keeps the first file; metrics and health follow") {
  auto tenant = recorded();
  fx::background_server good(tenant);
  fx::options fo;
  fo.faults.push_back(*fx::parse_fault("users:500:all"));
  fx::background_server bad(tenant, fo);
  scratch_dir dir;
  const auto dest = dir / "out.c1z";
  auto opts = fast_options(good, dest);

  capture_sink quiet;
  sink_guard sg(&quiet);
  stop_signal stop;
  bp::metrics::registry reg;
  std::error_code ec;
  auto endpoint = background_metrics::start("127.0.0.1", 0, reg, ec);
  REQUIRE_MESSAGE(endpoint, ec.message());
  const auto port = endpoint->port();

  // Nothing yet: alive, not ready.
  CHECK(fetch(port, "/healthz").status == 200);
  CHECK(fetch(port, "/readyz").status == 503);

  fake_time ft;
  ft.sleeps_before_stop = 2;  // sync 1 ok, sync 2 fails, sync 3 ok, then stop
  runner_hooks h;
  ft.attach(h);
  int calls = 0;
  h.run_sync = [&](const bp::sync::options& o, const bp::sync::run_control& c, bp::sync::summary* s) {
    ft.t += 10s;
    auto o2 = o;
    if (++calls == 2) o2.api.base_url = bad.base_url();
    return bp::sync::run_sync(o2, c, s);
  };
  std::string first_file;
  std::vector<sync_outcome> outcomes;
  double first_success_ts = 0;
  h.on_sync_done = [&](const sync_outcome& o) {
    outcomes.push_back(o);
    auto m = fetch(port, "/metrics");
    REQUIRE(m.status == 200);
    auto v = [&](std::string_view name) { return sample(m.body, name).value_or(-1); };
    if (outcomes.size() == 1) {
      REQUIRE(o.ok);
      first_file = read_bytes(dest);
      CHECK(v("baton_percipio_syncs_started_total") == 1);
      CHECK(v("baton_percipio_syncs_succeeded_total") == 1);
      CHECK(v("baton_percipio_syncs_failed_total") == 0);
      CHECK(v("baton_percipio_records{type=\"user\"}") == static_cast<double>(o.summary.users));
      CHECK(v("baton_percipio_records{type=\"course\"}") == static_cast<double>(o.summary.courses));
      CHECK(v("baton_percipio_records{type=\"entitlement\"}") == static_cast<double>(o.summary.entitlements));
      CHECK(v("baton_percipio_records{type=\"grant\"}") == static_cast<double>(o.summary.grants()));
      CHECK(o.summary.users > 0);
      CHECK(v("baton_percipio_requests_total") == static_cast<double>(o.summary.requests));
      CHECK(v("baton_percipio_bytes_downloaded_total") == static_cast<double>(o.summary.bytes_downloaded));
      CHECK(v("baton_percipio_last_sync_duration_seconds") == doctest::Approx(o.summary.wall_seconds));
      first_success_ts = v("baton_percipio_last_success_timestamp_seconds");
      CHECK(first_success_ts > 1.6e9);
      CHECK(v("baton_percipio_sync_in_progress") == 0);
      CHECK(fetch(port, "/readyz").status == 200);
    } else if (outcomes.size() == 2) {
      CHECK_FALSE(o.ok);
      CHECK(o.kind == bp::sync::failure_kind::upstream);
      CHECK(read_bytes(dest) == first_file);  // byte-identical
      CHECK(v("baton_percipio_syncs_started_total") == 2);
      CHECK(v("baton_percipio_syncs_succeeded_total") == 1);
      CHECK(v("baton_percipio_syncs_failed_total") == 1);
      CHECK(v("baton_percipio_last_success_timestamp_seconds") == first_success_ts);
      CHECK(v("baton_percipio_retries_total") == static_cast<double>(outcomes[0].summary.retries + o.summary.retries));
      CHECK(o.summary.retries > 0);
      CHECK(v("baton_percipio_requests_total") ==
            static_cast<double>(outcomes[0].summary.requests + o.summary.requests));
      CHECK(fetch(port, "/readyz").status == 200);  // the last good file is still there
      CHECK(fetch(port, "/healthz").status == 200);
    } else {
      CHECK(o.ok);
      CHECK(v("baton_percipio_syncs_succeeded_total") == 2);
    }
  };
  daemon_settings ds;
  ds.interval = 1h;
  ds.first_retry = 30s;
  auto res = run_daemon(opts, ds, stop, &reg, h);
  CHECK(res.exit_code == exit_ok);
  CHECK(res.syncs_succeeded == 2);
  CHECK(res.syncs_failed == 1);
  REQUIRE(outcomes.size() == 3);
  // After the failure the retry comes after the backoff, not the interval.
  REQUIRE(ft.waits.size() == 3);
  CHECK(ft.waits[0] == 1h - 10s);
  CHECK(ft.waits[1] == 30s);
  CHECK(ft.waits[2] == 1h - 10s);
  CHECK(outcomes[2].summary.sync_id != outcomes[0].summary.sync_id);
  CHECK(entries(dir.path()) == 1);
}

TEST_CASE("consecutive failures back off exponentially; a configuration failure ends the daemon") {
  scratch_dir dir;
  bp::sync::options opts;
  opts.destination = dir / "none.c1z";
  stop_signal stop;
  fake_time ft;
  ft.sleeps_before_stop = 100;
  runner_hooks h;
  ft.attach(h);
  int calls = 0;
  h.run_sync = [&](const bp::sync::options&, const bp::sync::run_control&, bp::sync::summary*) -> bp::sync::summary {
    ++calls;
    if (calls <= 4) throw bp::sync::sync_error(bp::sync::failure_kind::upstream, "HTTP 503");
    throw bp::sync::sync_error(bp::sync::failure_kind::configuration, "bad base URL");
  };
  bp::metrics::registry reg;
  capture_sink quiet;
  sink_guard sg(&quiet);
  daemon_settings ds;
  ds.interval = 100s;
  ds.first_retry = 30s;
  auto res = run_daemon(opts, ds, stop, &reg, h);
  CHECK(res.exit_code == exit_config);
  CHECK(res.syncs_failed == 5);
  REQUIRE(ft.waits.size() == 4);
  CHECK(ft.waits[0] == 30s);
  CHECK(ft.waits[1] == 60s);
  CHECK(ft.waits[2] == 100s);
  CHECK(ft.waits[3] == 100s);
  CHECK(reg.snap().syncs_failed == 5);
  CHECK_FALSE(reg.ready());
}

TEST_CASE("a stop requested mid-sync ends the daemon promptly, exit 0, last good file intact") {
  auto tenant = recorded();
  fx::background_server server(tenant);
  scratch_dir dir;
  const auto dest = dir / "keep.c1z";
  bp::sync::run_sync(fast_options(server, dest));
  const std::string before = read_bytes(dest);
  REQUIRE(before.size() > 5);

  // The report never finishes; the stop comes once it has been requested.
  fx::options slow;
  slow.pending_polls = 1000000;
  fx::background_server pending(tenant, slow);
  auto opts = fast_options(pending, dest);
  opts.api.poll_max = 20ms;

  stop_signal stop;
  steady::time_point stop_at{};
  capture_sink sink;
  sink.on_line = [&](std::string_view line) {
    if (line.find("report requested") != std::string_view::npos && !stop.stop_requested()) {
      stop_at = steady::now();
      stop.request_stop();
    }
  };
  sink_guard sg(&sink);
  bp::metrics::registry reg;
  runner_hooks h;  // real clock and sleeper
  daemon_settings ds;
  ds.interval = 1h;
  auto res = run_daemon(opts, ds, stop, &reg, h);
  const auto took = steady::now() - stop_at;
  bp::log::set_sink(nullptr);

  REQUIRE(stop.stop_requested());
  CHECK(took < 2s);
  CHECK(res.exit_code == exit_ok);
  CHECK(res.syncs_succeeded == 0);
  CHECK(res.syncs_failed == 1);
  CHECK(read_bytes(dest) == before);
  CHECK(entries(dir.path()) == 1);  // no temporary files left behind
  auto snap = reg.snap();
  CHECK_FALSE(snap.sync_in_progress);
  CHECK(snap.good_file_present);  // the file from before the daemon started
  CHECK(snap.ready());
}

TEST_CASE("note_existing_output: only a non-empty regular file counts") {
  scratch_dir dir;
  bp::metrics::registry reg;
  note_existing_output(reg, dir / "missing.c1z");
  CHECK_FALSE(reg.ready());
  { std::ofstream(dir / "empty.c1z"); }
  note_existing_output(reg, dir / "empty.c1z");
  CHECK_FALSE(reg.ready());
  { std::ofstream(dir / "full.c1z") << "C1ZF"; }
  note_existing_output(reg, dir / "full.c1z");
  CHECK(reg.ready());
  note_existing_output(reg, dir.path());
  CHECK_FALSE(reg.ready());
}

TEST_CASE("the daemon's syncs share one request budget history (one --rate-limit window per process)") {
  scratch_dir dir;
  bp::cli::config cfg;
  cfg.file = dir / "out.c1z";
  const auto opts = make_sync_options(cfg);
  REQUIRE(opts.api.budget_history != nullptr);
  stop_signal stop;
  fake_time ft;
  ft.sleeps_before_stop = 100;
  runner_hooks h;
  ft.attach(h);
  std::vector<const bp::net::budget_history*> seen;
  h.run_sync = [&](const bp::sync::options& o, const bp::sync::run_control&, bp::sync::summary*) -> bp::sync::summary {
    seen.push_back(o.api.budget_history.get());
    if (seen.size() < 3) throw bp::sync::sync_error(bp::sync::failure_kind::upstream, "HTTP 503");
    throw bp::sync::sync_error(bp::sync::failure_kind::configuration, "stop here");
  };
  capture_sink quiet;
  sink_guard sg(&quiet);
  auto res = run_daemon(opts, daemon_settings{}, stop, nullptr, h);
  CHECK(res.exit_code == exit_config);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == opts.api.budget_history.get());
  CHECK(seen[1] == seen[0]);
  CHECK(seen[2] == seen[0]);
}
