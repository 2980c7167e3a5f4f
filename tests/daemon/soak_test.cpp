// A daemon soak: 200 syncs of the --interval loop in-process (the sleeps between syncs are skipped)
// against a fixture server that fails about one request in seven at random (503, closed
// connections, truncated bodies, stalls). The loop survives every failure, counts each one in its
// metrics, keeps the last good file, and its open descriptors and heap do not grow.
#include <doctest/doctest.h>
#include <malloc.h>

#include <filesystem>

#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/recorded_tenant.hpp"
#include "daemon.hpp"
#include "sync/sync_test_env.hpp"

namespace fs = std::filesystem;
namespace fx = bp::fixture;
using namespace bp::cli;
using bp::sync::test::fast_options;
using bp::sync::test::read_bytes;
using bp::sync::test::scratch_dir;

namespace {

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool heap_measurable = false;  // ASan's quarantine holds freed memory; LSan checks leaks
#else
constexpr bool heap_measurable = true;
#endif

std::size_t heap_in_use() { return mallinfo2().uordblks; }

struct discard_sink : bp::log::sink {
  void write(std::string_view) override {}
};

}  // namespace

TEST_CASE("soak: 200 daemon syncs under random faults; failures counted, last good file kept, no growth") {
  std::string err;
  auto tenant = fx::recorded_tenant::load(std::string(BP_SOURCE_DIR) + "/tests/fixtures/percipio/recorded-small", &err);
  REQUIRE_MESSAGE(tenant, err);
  fx::options fo;
  fo.pending_polls = 0;
  fo.seed = 11;
  for (const char* spec : {"any:503:p=0.07", "any:close:p=0.04", "any:truncate:p=0.03:bytes=50", "any:stall:p=0.005"})
    fo.faults.push_back(*fx::parse_fault(spec));
  fx::background_server server(tenant, fo);
  scratch_dir dir;
  const auto file = dir / "soak.c1z";
  auto opts = fast_options(server, file);
  opts.api.retry.max_attempts = 2;  // so that faults also fail whole syncs
  opts.http.t.first_byte = std::chrono::milliseconds(200);
  opts.http.t.idle_read = std::chrono::milliseconds(200);

  constexpr std::size_t syncs = 200;
  constexpr std::size_t warm_up = 20;
  stop_signal stop;
  bp::metrics::registry reg;
  runner_hooks hooks;
  std::size_t done = 0, ok = 0, failed = 0;
  std::string last_good;
  std::size_t secrets_after_warm_up = 0;
  std::size_t fds_after_warm_up = 0, heap_after_warm_up = 0;
  std::size_t file_mismatches = 0, unexpected_kinds = 0;
  hooks.on_sync_done = [&](const sync_outcome& o) {
    ++done;
    if (o.ok) {
      ++ok;
      last_good = read_bytes(file);
    } else {
      ++failed;
      if (o.kind != bp::sync::failure_kind::upstream) ++unexpected_kinds;
      if (!last_good.empty() && read_bytes(file) != last_good) ++file_mismatches;
    }
    if (done == warm_up) {
      secrets_after_warm_up = bp::log::secret_count();
      fds_after_warm_up = open_fds();
      heap_after_warm_up = heap_in_use();
    }
  };
  hooks.sleep_until = [&](steady::time_point, stop_signal& s) {
    if (done >= syncs) {
      s.request_stop();
      return false;
    }
    return true;
  };
  discard_sink quiet;
  bp::log::set_sink(&quiet);
  auto r = run_daemon(opts, daemon_settings{}, stop, &reg, hooks);
  bp::log::set_sink(nullptr);

  CHECK(r.exit_code == exit_ok);
  CHECK(done == syncs);
  CHECK(r.syncs_succeeded + r.syncs_failed == syncs);
  const auto snap = reg.snap();
  CHECK(snap.syncs_started == syncs);
  CHECK(snap.syncs_succeeded == ok);
  CHECK(snap.syncs_failed == failed);
  CHECK(failed > 0);  // the faults did fail whole syncs
  CHECK(ok > 0);
  CHECK(unexpected_kinds == 0);
  CHECK(file_mismatches == 0);
  CHECK(snap.retries > 0);
  CHECK(bp::log::secret_count() == secrets_after_warm_up);  // one token, registered once
  // Descriptors: the fixture server may still be closing a few keep-alive connections.
  CHECK(open_fds() <= fds_after_warm_up + 4);
  if (heap_measurable) {
    INFO("heap after warm-up " << heap_after_warm_up << ", at the end " << heap_in_use());
    CHECK(heap_in_use() < heap_after_warm_up + (8u << 20));
  }
}
