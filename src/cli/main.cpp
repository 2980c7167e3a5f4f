// baton-percipio: argument handling lives in bp::cli::run_cli; main wires in what this build links.
#include <exception>
#include <iostream>
#include <string_view>
#include <vector>

#include "baton_percipio/cli/app.hpp"
#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/cli/inspect_command.hpp"
#include "baton_percipio/core/log.hpp"
#include "service_command.hpp"
#include "sync_command.hpp"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  bp::cli::hooks h;
  h.run_sync = bp::cli::run_sync_command;
  h.run_service = bp::cli::run_service_command;
  h.run_inspect = bp::cli::run_inspect;
  try {
    return bp::cli::run_cli(args, bp::cli::process_env(), h, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << bp::log::redact(std::string("error: internal: ") + e.what()) << '\n';
    return bp::cli::exit_internal;
  }
}
