#include "baton_percipio/service/service_timing.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace bp::service {
namespace {

milliseconds to_ms(const google::protobuf::Duration& d) {
  if (d.seconds() < 0 || (d.seconds() == 0 && d.nanos() <= 0)) return milliseconds(0);
  // Durations beyond any cap are cut before they can overflow.
  const auto secs = std::min<std::int64_t>(d.seconds(), 365LL * 24 * 3600);
  return milliseconds(secs * 1000 + d.nanos() / 1000000);
}

}  // namespace

milliseconds hello_backoff(const service_timing& t, unsigned failures) {
  auto d = std::max(t.hello_backoff_first, milliseconds(1));
  for (unsigned i = 1; i < failures && d < t.hello_backoff_cap; ++i) d *= 2;
  return std::min(d, t.hello_backoff_cap);
}

milliseconds poll_delay(const service_timing& t, const google::protobuf::Duration* next_poll) {
  const milliseconds d = next_poll ? to_ms(*next_poll) : milliseconds(0);
  return std::clamp(d, t.poll_floor, std::max(t.poll_floor, t.poll_cap));
}

milliseconds poll_error_delay(const service_timing& t, unsigned errors) {
  const auto n = static_cast<std::int64_t>(std::min(errors, 1000U));
  return std::min(t.poll_error_unit * (n * n), t.poll_error_cap);
}

milliseconds heartbeat_interval(const service_timing& t, const google::protobuf::Duration* next_heartbeat) {
  milliseconds d = next_heartbeat ? to_ms(*next_heartbeat) : milliseconds(0);
  if (d.count() == 0) d = t.heartbeat_default;
  return std::clamp(d, t.heartbeat_floor, std::max(t.heartbeat_floor, t.heartbeat_cap));
}

bool sleep_for(std::stop_token stop, milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  // Returns the predicate's value, i.e. whether stop was requested, when woken or timed out.
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace bp::service
