#pragma once
// The bare command in service mode (a client id is set): the ConductorOne task loop with
// SIGINT/SIGTERM handling and the --metrics-addr endpoint.
#include <ostream>

#include "baton_percipio/cli/config.hpp"
#include "baton_percipio/service/service_runner.hpp"

namespace bp::cli {

// Maps the command-line configuration onto service mode's settings (the Percipio side as in
// one-shot mode; files wait for upload in --c1z-temp-dir, default the system temporary directory).
service::service_settings make_service_settings(const config& cfg);
// The exit status for how service mode ended.
int exit_code_for(service::service_exit e);
// Runs service mode until SIGINT/SIGTERM (exit 0; a running sync is cancelled and reported as
// CANCELLED first) or a startup failure: 2 for malformed credentials or BATON_C1_API_HOST, 3 when
// ConductorOne refuses the credentials, 1 when it rejects Hello otherwise. Prints each sync's
// summary on err as one-shot mode does.
int run_service_command(const config& cfg, std::ostream& out, std::ostream& err);

}  // namespace bp::cli
