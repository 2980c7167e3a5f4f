#include "baton_percipio/cli/app.hpp"

#include "baton_percipio/cli/documents.hpp"
#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"

namespace bp::cli {

int run_cli(std::span<const std::string_view> args, const env_lookup& env, const hooks& h, std::ostream& out,
            std::ostream& err) {
  parse_result res = parse_config(args, env);
  // Secrets first, so nothing written from here on can carry them.
  if (!res.cfg.api_token.empty()) log::add_secret(res.cfg.api_token);
  if (!res.cfg.client_secret.empty()) log::add_secret(res.cfg.client_secret);
  for (const auto* p : {&res.cfg.proxy.https_proxy, &res.cfg.proxy.http_proxy}) {
    if (*p && !(*p)->password.empty()) log::add_secret((*p)->password);
  }
  if (!res.ok()) {
    err << res.error << '\n' << std::flush;
    return res.exit_code;
  }
  switch (res.cmd) {
    case command::help:
      out << usage_text() << std::flush;
      return exit_ok;
    case command::version:
      out << version_text() << '\n' << std::flush;
      return exit_ok;
    case command::config_schema:
      out << config_schema_json() << std::flush;
      return exit_ok;
    case command::capabilities:
      out << capabilities_json() << std::flush;
      return exit_ok;
    case command::inspect:
      if (!h.run_inspect) {
        err << "error: inspect not available in this build\n" << std::flush;
        return exit_internal;
      }
      return h.run_inspect(res.inspect_args, out, err);
    case command::sync:
      break;
  }
  log::configure(log::parse_level(res.cfg.log_level), log::parse_format(res.cfg.log_format));
  if (auto e = check_paths(res.cfg)) {
    err << *e << '\n' << std::flush;
    return exit_config;
  }
  if (res.cfg.service_mode_requested()) {
    if (!h.run_service) {
      err << "error: service mode not available in this build\n" << std::flush;
      return exit_internal;
    }
    return h.run_service(res.cfg, out, err);
  }
  if (!h.run_sync) {
    err << "error: sync not available in this build\n" << std::flush;
    return exit_internal;
  }
  return h.run_sync(res.cfg, out, err);
}

}  // namespace bp::cli
