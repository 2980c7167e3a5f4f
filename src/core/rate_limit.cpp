#include "baton_percipio/core/rate_limit.hpp"

#include <charconv>
#include <cstdint>

namespace bp {
namespace {

// "20s", "500ms", "1m30s": one or more NUMBER UNIT groups.
std::optional<std::chrono::milliseconds> parse_window(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t total_ms = 0;
  while (!s.empty()) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p == s.data() || n > 86'400'000) return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(p - s.data()));
    std::int64_t unit = 0;
    if (s.starts_with("ms")) {
      unit = 1;
      s.remove_prefix(2);
    } else if (!s.empty() && (s[0] == 's' || s[0] == 'm' || s[0] == 'h')) {
      unit = s[0] == 's' ? 1000 : s[0] == 'm' ? 60'000 : 3'600'000;
      s.remove_prefix(1);
    } else {
      return std::nullopt;  // a unit is required
    }
    total_ms += n * unit;
    if (total_ms > 86'400'000) return std::nullopt;
  }
  if (total_ms <= 0) return std::nullopt;
  return std::chrono::milliseconds(total_ms);
}

}  // namespace

std::optional<rate_limit> parse_rate_limit(std::string_view s) {
  if (s == "0") return rate_limit{};
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto count = s.substr(0, slash);
  std::size_t n = 0;
  auto [p, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (count.empty() || ec != std::errc() || p != count.data() + count.size() || n < 1 || n > 1'000'000) {
    return std::nullopt;
  }
  auto window = parse_window(s.substr(slash + 1));
  if (!window) return std::nullopt;
  return rate_limit{n, *window};
}

std::string to_string(const rate_limit& r) {
  if (!r.enabled()) return "0";
  auto ms = r.window.count();
  std::string w = ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
  return std::to_string(r.requests) + "/" + w;
}

}  // namespace bp
