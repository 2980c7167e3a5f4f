#pragma once
// The bare command: one sync (or, with --interval, a loop of syncs) from a validated configuration.
#include <memory>
#include <ostream>

#include "baton_percipio/cli/config.hpp"
#include "baton_percipio/sync/options.hpp"
#include "baton_percipio/sync/run.hpp"
#include "daemon.hpp"

namespace bp::cli {

// Maps the command-line configuration onto the sync's options.
sync::options make_sync_options(const config& cfg);
// The exit status of a sync that failed this way (one-shot mode).
int exit_code_for(sync::failure_kind k);
// Prints a sync's summary on err: text for console logs, one JSON line otherwise.
void print_summary(const config& cfg, const sync::summary& s, std::ostream& err);
// Starts --metrics-addr when set. False (the error written to err) when it cannot listen.
bool start_metrics_endpoint(const config& cfg, const metrics::registry& reg, std::ostream& err,
                            std::unique_ptr<background_metrics>& endpoint);
// Runs one sync, or the --interval daemon (see daemon.hpp), with the --metrics-addr endpoint when
// set. Prints each summary on err (text for console logs, one JSON line otherwise). SIGINT/SIGTERM
// cancel: a one-shot sync then exits exit_interrupted, the daemon exits exit_ok.
int run_sync_command(const config& cfg, std::ostream& out, std::ostream& err);

}  // namespace bp::cli
