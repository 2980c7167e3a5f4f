#include "sync_command.hpp"

#include <optional>

#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/metrics/registry.hpp"
#include "baton_percipio/sync/run.hpp"
#include "daemon.hpp"

namespace bp::cli {

sync::options make_sync_options(const config& cfg) {
  sync::options o;
  o.api.base_url = cfg.base_url;
  o.api.org_id = cfg.organization_id;
  o.api.token = cfg.api_token;
  o.api.concurrency = static_cast<std::size_t>(cfg.concurrency);
  o.api.report_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.report_timeout);
  o.api.report_lookback = cfg.report_lookback;
  o.api.rate_limit = cfg.rate_limit;
  // One history for the process: a daemon's or service mode's consecutive syncs (which reuse these
  // options) share one --rate-limit window with each other.
  o.api.budget_history = std::make_shared<net::budget_history>();
  o.http.ca_file = cfg.ca_file;
  o.http.proxy = cfg.proxy;
  o.http.max_body_bytes = static_cast<std::size_t>(cfg.max_page_bytes);
  // One connection per page fetcher, plus the report poll.
  o.http.max_connections_per_host = static_cast<std::size_t>(cfg.concurrency) + 1;
  o.limited_courses = cfg.limited_courses;
  o.destination = cfg.file;
  o.temp_dir = cfg.c1z_temp_dir;
  o.file_mode = cfg.file_mode;
  o.max_report_bytes = cfg.max_report_bytes;
  o.sync_timeout = cfg.report_timeout + std::chrono::hours(2);
  return o;
}

int exit_code_for(sync::failure_kind k) {
  switch (k) {
    case sync::failure_kind::configuration: return exit_config;
    case sync::failure_kind::auth: return exit_auth;
    case sync::failure_kind::upstream: return exit_upstream;
    case sync::failure_kind::output: return exit_output;
    case sync::failure_kind::cancelled: return exit_interrupted;
    case sync::failure_kind::internal: return exit_internal;
  }
  return exit_internal;
}

void print_summary(const config& cfg, const sync::summary& s, std::ostream& err) {
  if (log::parse_format(cfg.log_format) == log::format::console) {
    err << s.to_text();
  } else {
    err << s.to_json() << '\n';
  }
  err.flush();
}

bool start_metrics_endpoint(const config& cfg, const metrics::registry& reg, std::ostream& err,
                            std::unique_ptr<background_metrics>& endpoint) {
  if (cfg.metrics_addr.empty()) return true;
  std::error_code ec;
  endpoint = background_metrics::start(cfg.metrics_host, cfg.metrics_port, reg, ec);
  if (!endpoint) {
    err << log::redact("error: --metrics-addr / BATON_METRICS_ADDR: cannot listen on \"" + cfg.metrics_addr +
                       "\": " + ec.message())
        << '\n';
    return false;
  }
  log::info("metrics endpoint listening", {{"addr", cfg.metrics_addr}, {"port", endpoint->port()}});
  return true;
}

int run_sync_command(const config& cfg, std::ostream& /*out*/, std::ostream& err) {
  // Signals first: every thread started from here on (metrics, sync, writer) inherits the blocked mask.
  stop_signal stop;
  signal_watcher signals(stop);

  metrics::registry reg;
  const auto opts = make_sync_options(cfg);
  note_existing_output(reg, opts.destination);
  std::unique_ptr<background_metrics> endpoint;
  if (!start_metrics_endpoint(cfg, reg, err, endpoint)) return exit_config;

  runner_hooks hooks;
  hooks.on_sync_done = [&](const sync_outcome& o) { print_summary(cfg, o.summary, err); };

  if (cfg.interval) {
    daemon_settings ds;
    ds.interval = *cfg.interval;
    return run_daemon(opts, ds, stop, &reg, hooks).exit_code;
  }

  auto o = run_one_sync(opts, stop, &reg, hooks);
  if (o.ok) return exit_ok;
  err << "error: " << o.error << '\n';
  return exit_code_for(o.kind);
}

}  // namespace bp::cli
