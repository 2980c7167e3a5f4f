#include "service_command.hpp"

#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"
#include "daemon.hpp"
#include "sync_command.hpp"

namespace bp::cli {

service::service_settings make_service_settings(const config& cfg) {
  service::service_settings s;
  s.client_id = cfg.client_id;
  s.client_secret = cfg.client_secret;
  s.api_host_override = cfg.c1_api_host;
  s.host_id = cfg.host_id;
  s.ca_file = cfg.ssl_cert_file;
  s.proxy = cfg.proxy;
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
  if (!start_metrics_endpoint(cfg, reg, err, endpoint)) return exit_config;

  auto settings = make_service_settings(cfg);
  settings.sync.on_summary = [&](const sync::summary& s, bool) { print_summary(cfg, s, err); };
  const service::service_result r = service::run_service(settings, stop.token(), &reg);
  if (!r.message.empty()) err << log::redact(r.message) << '\n' << std::flush;
  return exit_code_for(r.exit);
}

}  // namespace bp::cli
