#pragma once
// Progress while syncing: a live line on a terminal, periodic log lines otherwise.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "baton_percipio/sync/options.hpp"

namespace bp::sync {

struct progress_state {
  std::uint64_t pages = 0;  // users and catalog pages received
  std::uint64_t users = 0;
  std::uint64_t courses = 0;
  std::uint64_t grants = 0;
  std::uint64_t rows_written = 0;
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  std::uint64_t report_polls = 0;
  bool users_done = false;
  bool courses_done = false;
  bool report_streaming = false;
  bool report_done = false;
};

class progress_reporter {
 public:
  // `out` is where the live line goes (automatic mode: live when it is a terminal).
  progress_reporter(progress_mode mode, std::chrono::milliseconds log_interval, std::FILE* out = stderr);
  void tick(const progress_state& p) { tick(p, std::chrono::steady_clock::now()); }
  void tick(const progress_state& p, std::chrono::steady_clock::time_point now);
  void finish();

 private:
  std::FILE* out_;
  bool live_;
  bool enabled_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool drew_ = false;
};

}  // namespace bp::sync
