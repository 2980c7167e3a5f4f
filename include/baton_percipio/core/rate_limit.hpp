#pragma once
// The request budget "N/DURATION": at most N requests in any DURATION (e.g. 100/20s), or 0 for
// none. One syntax for the CLI's --rate-limit, the benchmark tools and the fixture server.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bp {

struct rate_limit {
  std::size_t requests = 0;           // 0: no limit
  std::chrono::milliseconds window{};  // > 0 whenever requests > 0

  bool enabled() const { return requests > 0; }
  friend bool operator==(const rate_limit&, const rate_limit&) = default;
};

// Percipio's documented limit per service account (spec 8.1).
inline constexpr rate_limit percipio_rate_limit{100, std::chrono::seconds(20)};

// "100/20s", "5/500ms", "1000/1m", "10/1m30s" (units ms, s, m, h; N from 1 to 1000000, the window
// from 1 ms to 24 h), or "0" for no limit. nullopt for anything else.
std::optional<rate_limit> parse_rate_limit(std::string_view s);

// "100/20s", "5/500ms", "0".
std::string to_string(const rate_limit& r);

}  // namespace bp
