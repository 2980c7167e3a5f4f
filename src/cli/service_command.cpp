#include "service_command.hpp"

#include <stop_token>
#include <thread>

#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"
#include "daemon.hpp"
#include "sync_command.hpp"

namespace bp::cli {
namespace {

// Turns the signal watcher's stop_signal into the std::stop_token service mode waits on. The
// destructor ends the thread (by stopping the signal, which nothing reads any more by then).
class stop_bridge {
 public:
  explicit stop_bridge(stop_signal& stop)
      : stop_(stop), thread_([this] {
          while (stop_.wait_until(steady::now() + std::chrono::hours(1))) {
          }
          source_.request_stop();
        }) {}
  ~stop_bridge() {
    stop_.request_stop();
    thread_.join();
  }
  stop_bridge(const stop_bridge&) = delete;
  stop_bridge& operator=(const stop_bridge&) = delete;
  std::stop_token token() const { return source_.get_token(); }

 private:
  stop_signal& stop_;
  std::stop_source source_;
  std::thread thread_;  // last: uses the members above
};

}  // namespace

service::service_settings make_service_settings(const config& cfg) {
  service::service_settings s;
  s.client_id = cfg.client_id;
  s.client_secret = cfg.client_secret;
  s.api_host_override = cfg.c1_api_host;
  s.host_id = cfg.host_id;
  s.ca_file = cfg.ssl_cert_file;
  s.sync.base = make_sync_options(cfg);
  s.sync.temp_dir = cfg.c1z_temp_dir;
  return s;
}

int exit_code_for(service::service_exit e) {
  switch (e) {
    case service::service_exit::stopped: return exit_ok;
    case service::service_exit::config_error: return exit_config;
    case service::service_exit::auth_failed: return exit_auth;
    case service::service_exit::rejected: return exit_internal;
  }
  return exit_internal;
}

int run_service_command(const config& cfg, std::ostream& /*out*/, std::ostream& err) {
  // Signals first: every thread started from here on inherits the blocked mask.
  stop_signal stop;
  signal_watcher signals(stop);

  metrics::registry reg;
  reg.service_started();
  std::unique_ptr<background_metrics> endpoint;
  if (!cfg.metrics_addr.empty()) {
    std::error_code ec;
    endpoint = background_metrics::start(cfg.metrics_host, cfg.metrics_port, reg, ec);
    if (!endpoint) {
      err << log::redact("error: --metrics-addr / BATON_METRICS_ADDR: cannot listen on \"" + cfg.metrics_addr +
                         "\": " + ec.message())
          << '\n';
      return exit_config;
    }
    log::info("metrics endpoint listening", {{"addr", cfg.metrics_addr}, {"port", endpoint->port()}});
  }

  auto settings = make_service_settings(cfg);
  settings.sync.on_summary = [&](const sync::summary& s, bool) { print_summary(cfg, s, err); };
  service::service_result r;
  {
    stop_bridge bridge(stop);
    r = service::run_service(settings, bridge.token(), &reg);
  }
  if (!r.message.empty()) err << log::redact(r.message) << '\n' << std::flush;
  return exit_code_for(r.exit);
}

}  // namespace bp::cli
