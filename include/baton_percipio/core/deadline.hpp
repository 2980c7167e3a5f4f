#pragma once
// Deadlines are absolute time points passed down the call chain, never per-call durations.
#include <algorithm>
#include <chrono>

namespace bp {

using steady_clock = std::chrono::steady_clock;
using deadline = steady_clock::time_point;
using namespace std::chrono_literals;

inline constexpr deadline no_deadline = deadline::max();

// The earlier of an overall deadline and "now + step".
inline deadline step_deadline(deadline overall, steady_clock::duration step,
                              steady_clock::time_point now = steady_clock::now()) {
  if (now > deadline::max() - step) return overall;
  return std::min(overall, now + step);
}

}  // namespace bp
