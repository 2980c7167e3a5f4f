#pragma once
// Progress while syncing: a live line on a terminal, periodic log lines otherwise.
#include <chrono>
#include <cstdint>

#include "baton_percipio/sync/options.hpp"

namespace bp::sync {

struct progress_state {
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
  progress_reporter(progress_mode mode, std::chrono::milliseconds log_interval);
  void tick(const progress_state& p);
  void finish();

 private:
  bool live_;
  bool enabled_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool drew_ = false;
};

}  // namespace bp::sync
