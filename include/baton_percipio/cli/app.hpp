#pragma once
// The command-line program as a function, so tests can run it in-process with their own streams
// and environment. main() only supplies the real environment and the hooks linked into the build.
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/cli/config.hpp"

namespace bp::cli {

struct hooks {
  // Runs the sync (one-shot or --interval daemon) with a validated config; returns an exit code.
  // Unset: "sync not available in this build", exit 1.
  std::function<int(const config&, std::ostream& out, std::ostream& err)> run_sync;
  // Service mode (a client id is set): the ConductorOne task loop until SIGINT/SIGTERM. Unset:
  // "service mode not available in this build", exit 1.
  std::function<int(const config&, std::ostream& out, std::ostream& err)> run_service;
  // `inspect ARGS...`. Unset: "inspect not available in this build", exit 1.
  std::function<int(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)> run_inspect;
};

// args: argv without the program name. Registers the secrets and configures logging right after
// parsing. Errors go to err as one line; command output to out.
int run_cli(std::span<const std::string_view> args, const env_lookup& env, const hooks& h, std::ostream& out,
            std::ostream& err);

}  // namespace bp::cli
