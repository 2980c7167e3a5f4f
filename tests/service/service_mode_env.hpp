#pragma once
// Service mode end to end in one process: the Percipio fixture server, a fake ConductorOne and
// bp::service::run_service on a thread, with every interval shortened so a test takes milliseconds.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>

#include "baton_percipio/fake_c1/server.hpp"
#include "baton_percipio/fake_c1/tasks.hpp"
#include "baton_percipio/fixture/recorded_tenant.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/metrics/registry.hpp"
#include "baton_percipio/service/service_runner.hpp"
#include "sync/sync_test_env.hpp"

namespace bp::service::test {

using namespace std::chrono_literals;
namespace fc = bp::fake_c1;
namespace fx = bp::fixture;

inline std::shared_ptr<fx::recorded_tenant> recorded_tenant() {
  std::string err;
  auto t = fx::recorded_tenant::load(std::string(BP_SOURCE_DIR) + "/tests/fixtures/percipio/recorded-small", &err);
  REQUIRE_MESSAGE(t, err);
  return t;
}

// Protocol intervals in milliseconds: the loop, backoffs and heartbeats all run at test pace.
inline service_timing fast_timing() {
  service_timing t;
  t.hello_backoff_first = 5ms;
  t.hello_backoff_cap = 40ms;
  t.poll_floor = 2ms;
  t.poll_error_unit = 10ms;
  t.poll_error_cap = 100ms;
  t.heartbeat_default = 50ms;
  t.heartbeat_floor = 5ms;
  return t;
}

inline fc::options fast_fake(const std::string& tasks = "") {
  fc::options o;
  o.client_host = "tenant.conductor.one";  // realistic id; requests go to the fake via the override
  o.next_poll = 5ms;
  o.next_heartbeat = 20ms;
  if (!tasks.empty()) o.tasks = fc::parse_task_list(tasks);
  return o;
}

class service_env {
 public:
  explicit service_env(fc::options fake_opts = fast_fake(), fx::options fixture_opts = quick_fixture())
      : tenant_(recorded_tenant()), percipio_(tenant_, fixture_opts), c1_(std::move(fake_opts)) {
    std::filesystem::create_directories(temp_dir());
    ca_path_ = scratch_ / "c1-ca.pem";
    std::FILE* f = std::fopen(ca_path_.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(c1_.ca_pem().data(), 1, c1_.ca_pem().size(), f);
    std::fclose(f);

    settings.client_id = c1_.credentials().client_id;
    settings.client_secret = c1_.credentials().client_secret;
    settings.api_host_override = c1_.address();
    settings.host_id = "test-host";
    settings.ca_file = ca_path_.string();
    settings.token_timeout = 10s;
    settings.timing = fast_timing();
    settings.client.call_timeout = 10s;
    settings.client.upload_retry_waits = {0ms, 5ms};
    settings.sync.base = sync::test::fast_options(percipio_, scratch_ / "unused.c1z");
    settings.sync.temp_dir = temp_dir();
  }
  ~service_env() { stop(); }

  static fx::options quick_fixture() {
    fx::options o;
    o.pending_polls = 0;
    return o;
  }

  // Starts run_service on a thread.
  void start() {
    std::promise<service_result> p;
    result_ = p.get_future();
    thread_ = std::jthread([this, p = std::move(p)]() mutable {
      p.set_value(run_service(settings, stop_.get_token(), &metrics));
    });
  }
  // Requests the stop and waits for run_service to return.
  service_result stop() {
    stop_.request_stop();
    if (thread_.joinable()) thread_.join();
    return result_.valid() ? result_.get() : service_result{};
  }
  // Waits for run_service to return by itself (startup failures).
  std::optional<service_result> wait_result(std::chrono::milliseconds timeout) {
    if (result_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    thread_.join();
    return result_.get();
  }

  bool wait_finished(std::size_t n, std::chrono::milliseconds timeout = 30s) { return c1_.wait_until_finished(n, timeout); }

  fc::server& c1() { return c1_; }
  fx::background_server& percipio() { return percipio_; }
  const fx::tenant& tenant() const { return *tenant_; }
  std::filesystem::path temp_dir() const { return scratch_.path() / "c1z-temp"; }
  bool temp_dir_empty() const { return std::filesystem::is_empty(temp_dir()); }
  const std::filesystem::path& scratch() const { return scratch_.path(); }

  service_settings settings;
  metrics::registry metrics;

 private:
  sync::test::scratch_dir scratch_;
  std::shared_ptr<fx::recorded_tenant> tenant_;
  fx::background_server percipio_;
  fc::server c1_;
  std::filesystem::path ca_path_;
  std::stop_source stop_;
  std::future<service_result> result_;
  std::jthread thread_;
};

}  // namespace bp::service::test
