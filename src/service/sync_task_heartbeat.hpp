#pragma once
// The heartbeats of one sync task on a thread of their own (spec c1-service-mode.md 10): every
// interval the last reply asked for, until the task ends. A reply saying `cancelled`, or too many
// failures in a row, aborts the task through `on_abort` (called once, from the heartbeat thread).
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "baton_percipio/service/task_context.hpp"

namespace bp::service {

enum class heartbeat_abort { none, cancelled, failed };

class heartbeat_keeper {
 public:
  // Starts the thread; the first heartbeat goes out after `first_interval`.
  heartbeat_keeper(task_context& ctx, std::string task_id, milliseconds first_interval,
                   std::function<void(heartbeat_abort)> on_abort);
  // Stops and joins (an in-flight heartbeat call is waited for; it has the client's call deadline).
  ~heartbeat_keeper();
  heartbeat_keeper(const heartbeat_keeper&) = delete;
  heartbeat_keeper& operator=(const heartbeat_keeper&) = delete;

  void stop();
  heartbeat_abort abort_reason() const { return abort_.load(); }
  std::string last_error() const;

 private:
  void run(std::stop_token st);

  task_context& ctx_;
  std::string task_id_;
  milliseconds interval_;
  std::function<void(heartbeat_abort)> on_abort_;
  std::atomic<heartbeat_abort> abort_{heartbeat_abort::none};
  mutable std::mutex mu_;
  std::string last_error_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: started after every member it uses
};

}  // namespace bp::service
