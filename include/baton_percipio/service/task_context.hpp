#pragma once
// What every task handler of service mode works with: the ConductorOne client, who we are, the
// intervals, the process's stop request, the metrics and how a sync is run.
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>

#include "baton_percipio/metrics/registry.hpp"
#include "baton_percipio/service/baton_client.hpp"
#include "baton_percipio/service/service_timing.hpp"
#include "baton_percipio/sync/options.hpp"
#include "baton_percipio/sync/run.hpp"
#include "baton_percipio/sync/summary.hpp"

namespace bp::service {

using run_sync_fn = std::function<sync::summary(const sync::options&, const sync::run_control&, sync::summary*)>;

struct sync_settings {
  // The Percipio side, as one-shot mode would use it. Per task, destination and temp_dir are
  // replaced (a private directory under temp_dir), file_mode is 0600, and the task's options
  // narrow resource_types / skip_entitlements_and_grants / skip_grants.
  sync::options base;
  std::filesystem::path temp_dir;  // where each task's directory is made; empty: the system temp dir
  run_sync_fn run_sync;            // empty: sync::run_sync. Tests inject a slow or failing sync.
  // After each sync, successful or not, with its summary (the CLI prints it as one-shot mode does).
  std::function<void(const sync::summary&, bool ok)> on_summary;
};

struct task_context {
  baton_client& client;
  std::string host_id;
  service_timing timing;
  sync_settings sync;
  std::stop_token stop;                  // the process is stopping (SIGTERM/SIGINT)
  metrics::registry* metrics = nullptr;  // optional
  // The same connection settings with timing.shutdown_finish_timeout as call deadline, for the
  // FinishTask sent once the process is stopping. Null: `client`.
  baton_client* shutdown_client = nullptr;
};

}  // namespace bp::service
