// Header value parsers: Link, x-total-count, Retry-After, HTTP-date and rate-limit reset. Garbage
// gives nullopt; waits are never negative.
#include <chrono>
#include <string>

#include "baton_percipio/net/http_date.hpp"
#include "baton_percipio/percipio/headers.hpp"
#include "fuzz/targets.hpp"

namespace bp::fuzz {

int headers(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)percipio::parse_link_last_offset(text);
  if (auto n = percipio::parse_total_count(text)) {
    // Digits only, once blanks are trimmed.
    BP_FUZZ_CHECK(text.find_first_of("0123456789") != std::string_view::npos);
  }
  // A fixed "now" keeps runs reproducible: 2025-01-01T00:00:00Z.
  const net::sys_time now{std::chrono::seconds(1735689600)};
  if (auto d = net::parse_http_date(text)) (void)d->time_since_epoch().count();
  if (auto w = net::parse_retry_after(text, now)) BP_FUZZ_CHECK(w->count() >= 0);
  if (auto w = net::parse_rate_limit_reset(text, now)) {
    BP_FUZZ_CHECK(w->count() >= 0);
    BP_FUZZ_CHECK(*w <= std::chrono::hours(24 * 366));  // capped, whatever the value
  }
  // Also at the Unix epoch (the callers pass system_clock::now(); far-off clocks are not realistic).
  if (auto w = net::parse_retry_after(text, net::sys_time{})) BP_FUZZ_CHECK(w->count() >= 0);
  if (auto w = net::parse_rate_limit_reset(text, net::sys_time{})) BP_FUZZ_CHECK(w->count() >= 0);
  return 0;
}

}  // namespace bp::fuzz
