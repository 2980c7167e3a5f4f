#pragma once
// What the token endpoint, the gRPC service and the public accessors share: registered clients,
// issued tokens, the task queue, faults and the records. One mutex guards it all; every change
// wakes the waiters of server::wait_for.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "baton_percipio/fake_c1/options.hpp"
#include "baton_percipio/fake_c1/records.hpp"
#include "event_log.hpp"

namespace bp::fake_c1::detail {

namespace v1 = c1::connectorapi::baton::v1;

struct task_info {
  v1::Task task;
  bool done = false;
  bool cancelled = false;  // a heartbeat reply said so; later heartbeats repeat it
};

struct state {
  explicit state(options o);

  const options opts;
  event_log log;

  std::chrono::system_clock::time_point now() const { return opts.clock ? opts.clock() : std::chrono::system_clock::now(); }

  // Runs `f` under the lock, then wakes waiters.
  template <class F>
  auto update(F&& f) {
    struct notify {
      std::condition_variable& cv;
      ~notify() { cv.notify_all(); }
    } n{cv};
    std::lock_guard lock(mu);
    return f();
  }

  // Under the lock:
  std::string issue_token_locked(const std::string& client_id, std::chrono::seconds lifetime);
  // Empty when `authorization` is "Bearer <valid, unexpired token>", else why not.
  std::string check_bearer_locked(std::string_view authorization) const;

  mutable std::mutex mu;
  mutable std::condition_variable cv;

  // Guarded by mu.
  faults fault;
  std::map<std::string, std::string, std::less<>> clients;  // client id -> Ed25519 public key
  struct token_info {
    std::string client_id;
    std::chrono::system_clock::time_point expires;
  };
  std::unordered_map<std::string, token_info> tokens;
  std::deque<v1::Task> queue;
  std::map<std::string, task_info, std::less<>> handed_out;  // by task id
  std::map<std::string, int, std::less<>> upload_sequence;    // by task id: the next stored upload's number
  int get_task_calls = 0;
  int upload_streams = 0;
  int heartbeat_calls = 0;
  call_counts counts;
  std::vector<connection_record> connections;
  std::vector<token_request_record> token_requests;
  std::vector<hello_record> hellos;
  std::vector<poll_record> polls;
  std::vector<heartbeat_record> heartbeats;
  std::vector<upload_record> uploads;
  std::vector<finish_record> finishes;
};

}  // namespace bp::fake_c1::detail
