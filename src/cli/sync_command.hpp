#pragma once
// The bare command: one sync (or, with --interval, a loop of syncs) from a validated configuration.
#include <ostream>

#include "baton_percipio/cli/config.hpp"
#include "baton_percipio/sync/options.hpp"

namespace bp::cli {

// Maps the command-line configuration onto the sync's options.
sync::options make_sync_options(const config& cfg);
// Runs the sync; prints the summary on err (text for console logs, one JSON line otherwise).
int run_sync_command(const config& cfg, std::ostream& out, std::ostream& err);

}  // namespace bp::cli
