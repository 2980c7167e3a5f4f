#include "baton_percipio/service/service_runner.hpp"

#include <memory>
#include <stdexcept>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/service/credentials.hpp"
#include "baton_percipio/service/hello_request.hpp"
#include "baton_percipio/service/task_loop.hpp"
#include "baton_percipio/service/token_source.hpp"

namespace bp::service {

service_result run_service(const service_settings& settings, std::stop_token stop, metrics::registry* metrics) {
  if (metrics) metrics->service_started();
  auto creds = load_credentials(settings.client_id, settings.client_secret);
  if (!creds) return {service_exit::config_error, "error: " + log::redact(creds.error().message)};
  auto api = api_endpoint(creds->id, settings.api_host_override);
  if (!api) return {service_exit::config_error, "error: " + log::redact(api.error().message)};

  const std::string client_name = creds->id.name;
  token_options topts;
  topts.api = *api;
  topts.ca_file = settings.ca_file;
  topts.proxy = settings.proxy;
  topts.timeout = settings.token_timeout;
  topts.stop = stop;
  baton_client_options copts = settings.client;
  copts.target = *api;
  copts.client_name = client_name;
  copts.ca_file = settings.ca_file;
  copts.proxy = settings.proxy;
  copts.stop = stop;  // a stop cancels the calls in flight: SIGTERM never waits out a call deadline

  baton_client_options shutdown_opts = copts;
  shutdown_opts.stop = {};  // reports the cancelled task after the stop
  shutdown_opts.call_timeout = settings.timing.shutdown_finish_timeout;

  std::unique_ptr<token_source> tokens;
  std::unique_ptr<baton_client> client;
  std::unique_ptr<baton_client> shutdown_client;
  try {
    tokens = std::make_unique<token_source>(std::move(creds.value()), topts);
    client = std::make_unique<baton_client>(*tokens, copts);
    shutdown_client = std::make_unique<baton_client>(*tokens, shutdown_opts);
  } catch (const std::runtime_error& e) {
    // Only the CA file can make these throw: a configuration problem found at startup.
    return {service_exit::config_error,
            "error: SSL_CERT_FILE: " + log::redact(e.what())};
  }

  task_context ctx{*client, resolve_host_id(settings.host_id), settings.timing, settings.sync, stop, metrics,
                   shutdown_client.get()};
  log::info("service mode starting", {{"api", api->host_port()}, {"host_id", ctx.host_id}});
  auto start = startup_hello(ctx);
  switch (start.result) {
    case startup_result::connected: break;
    case startup_result::stopped: return {service_exit::stopped, ""};
    case startup_result::auth_failed:
      return {service_exit::auth_failed, "error: ConductorOne refused the client credentials (--client-id / "
                                         "BATON_CLIENT_ID, --client-secret / BATON_CLIENT_SECRET): " +
                                             std::string(rpc_code_name(start.status.code)) + ": " +
                                             log::redact(start.status.message)};
    case startup_result::rejected:
      return {service_exit::rejected, "error: ConductorOne rejected Hello: " +
                                          std::string(rpc_code_name(start.status.code)) + ": " +
                                          log::redact(start.status.message)};
  }
  if (metrics) metrics->service_connected();
  poll_loop(ctx);
  log::info("service mode stopped");
  return {service_exit::stopped, ""};
}

}  // namespace bp::service
