#include "baton_percipio/metrics/registry.hpp"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using bp::metrics::record_counts;
using bp::metrics::registry;

namespace {

const std::string fresh_text =
    "# HELP baton_percipio_syncs_started_total Syncs started since the process began.\n"
    "# TYPE baton_percipio_syncs_started_total counter\n"
    "baton_percipio_syncs_started_total 0\n"
    "# HELP baton_percipio_syncs_succeeded_total Syncs that wrote a new c1z file.\n"
    "# TYPE baton_percipio_syncs_succeeded_total counter\n"
    "baton_percipio_syncs_succeeded_total 0\n"
    "# HELP baton_percipio_syncs_failed_total Syncs that failed; the last good file was kept.\n"
    "# TYPE baton_percipio_syncs_failed_total counter\n"
    "baton_percipio_syncs_failed_total 0\n"
    "# HELP baton_percipio_last_success_timestamp_seconds Unix time the last successful sync finished (0 if none yet).\n"
    "# TYPE baton_percipio_last_success_timestamp_seconds gauge\n"
    "baton_percipio_last_success_timestamp_seconds 0\n"
    "# HELP baton_percipio_last_sync_duration_seconds Duration of the last finished sync, successful or not.\n"
    "# TYPE baton_percipio_last_sync_duration_seconds gauge\n"
    "baton_percipio_last_sync_duration_seconds 0\n"
    "# HELP baton_percipio_records Records written by the last successful sync, by resource type.\n"
    "# TYPE baton_percipio_records gauge\n"
    "baton_percipio_records{type=\"user\"} 0\n"
    "baton_percipio_records{type=\"course\"} 0\n"
    "baton_percipio_records{type=\"entitlement\"} 0\n"
    "baton_percipio_records{type=\"grant\"} 0\n"
    "# HELP baton_percipio_requests_total HTTP requests sent to Percipio, retries included.\n"
    "# TYPE baton_percipio_requests_total counter\n"
    "baton_percipio_requests_total 0\n"
    "# HELP baton_percipio_retries_total Percipio requests repeated after a retryable failure.\n"
    "# TYPE baton_percipio_retries_total counter\n"
    "baton_percipio_retries_total 0\n"
    "# HELP baton_percipio_rate_limited_total Percipio responses with status 429 Too Many Requests.\n"
    "# TYPE baton_percipio_rate_limited_total counter\n"
    "baton_percipio_rate_limited_total 0\n"
    "# HELP baton_percipio_bytes_downloaded_total Response body bytes received from Percipio.\n"
    "# TYPE baton_percipio_bytes_downloaded_total counter\n"
    "baton_percipio_bytes_downloaded_total 0\n"
    "# HELP baton_percipio_sync_in_progress 1 while a sync is running, else 0.\n"
    "# TYPE baton_percipio_sync_in_progress gauge\n"
    "baton_percipio_sync_in_progress 0\n";

// The sample lines only (HELP/TYPE are checked once above).
std::vector<std::string> samples(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    if (!line.starts_with("#")) out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

registry::wall_clock::time_point at_unix(std::chrono::milliseconds since_epoch) {
  return registry::wall_clock::time_point(since_epoch);
}

}  // namespace

TEST_CASE("render: a fresh registry, byte for byte") {
  registry r;
  CHECK(r.render() == fresh_text);
  CHECK(bp::metrics::render({}) == fresh_text);
}

TEST_CASE("render: after syncs and traffic") {
  registry r;
  r.sync_started();
  r.add_request();
  r.add_request();
  r.add_request();
  r.add_retry();
  r.add_rate_limited();
  r.add_bytes_downloaded(1000);
  r.add_bytes_downloaded(24);
  CHECK(r.snap().sync_in_progress);
  r.sync_succeeded(12.5s, record_counts{.users = 300, .courses = 40, .entitlements = 40, .grants = 1234},
                   at_unix(1700000000250ms));
  r.sync_started();
  r.sync_failed(1.75s);

  std::vector<std::string> expected = {
      "baton_percipio_syncs_started_total 2",
      "baton_percipio_syncs_succeeded_total 1",
      "baton_percipio_syncs_failed_total 1",
      "baton_percipio_last_success_timestamp_seconds 1700000000.25",
      "baton_percipio_last_sync_duration_seconds 1.75",
      "baton_percipio_records{type=\"user\"} 300",
      "baton_percipio_records{type=\"course\"} 40",
      "baton_percipio_records{type=\"entitlement\"} 40",
      "baton_percipio_records{type=\"grant\"} 1234",
      "baton_percipio_requests_total 3",
      "baton_percipio_retries_total 1",
      "baton_percipio_rate_limited_total 1",
      "baton_percipio_bytes_downloaded_total 1024",
      "baton_percipio_sync_in_progress 0",
  };
  CHECK(samples(r.render()) == expected);

  // A sync in progress shows as 1; a failed sync keeps the last success's records and time.
  r.sync_started();
  auto s = r.snap();
  CHECK(s.sync_in_progress);
  CHECK(s.records.grants == 1234);
  CHECK(s.last_success_timestamp_seconds == 1700000000.25);
  CHECK(samples(r.render()).back() == "baton_percipio_sync_in_progress 1");
}

TEST_CASE("render: large values stay exact integers") {
  bp::metrics::snapshot s;
  s.bytes_downloaded = 18'000'000'000'000'000'000ULL;
  s.last_success_timestamp_seconds = 1700000000;
  auto lines = samples(bp::metrics::render(s));
  CHECK(lines[3] == "baton_percipio_last_success_timestamp_seconds 1700000000");
  CHECK(lines[12] == "baton_percipio_bytes_downloaded_total 18000000000000000000");
}

TEST_CASE("readiness: a success or a previous good file") {
  registry r;
  CHECK_FALSE(r.ready());
  r.sync_started();
  r.sync_failed(1s);
  CHECK_FALSE(r.ready());
  r.set_good_file_present(true);
  CHECK(r.ready());
  r.set_good_file_present(false);
  CHECK_FALSE(r.ready());
  r.sync_started();
  r.sync_succeeded(2s, {});
  CHECK(r.ready());
  r.sync_started();
  r.sync_failed(1s);
  CHECK(r.ready());  // the last good file is kept
}

TEST_CASE("registry: concurrent updates are all counted") {
  registry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r] {
      for (int i = 0; i < 1000; ++i) {
        r.add_request();
        r.add_bytes_downloaded(2);
        r.sync_started();
        r.sync_failed(1ms);
        (void)r.render();
      }
    });
  }
  for (auto& t : threads) t.join();
  auto s = r.snap();
  CHECK(s.requests == 4000);
  CHECK(s.bytes_downloaded == 8000);
  CHECK(s.syncs_started == 4000);
  CHECK(s.syncs_failed == 4000);
  CHECK_FALSE(s.sync_in_progress);
}
