#pragma once
// HTTP-date and rate-limit header parsing for retry decisions.
#include <chrono>
#include <optional>
#include <string_view>

namespace bp::net {

using sys_time = std::chrono::system_clock::time_point;

// The three HTTP-date forms of RFC 9110 5.6.7: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994").
std::optional<sys_time> parse_http_date(std::string_view text);

// Retry-After: delta-seconds or an HTTP-date; the wait from now (a past date gives zero).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, sys_time now);

// X-RateLimit-Reset / RateLimit-Reset: delta seconds, or a Unix epoch time (values above 10^9).
std::optional<std::chrono::milliseconds> parse_rate_limit_reset(std::string_view value, sys_time now);

}  // namespace bp::net
