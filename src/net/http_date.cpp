#include "baton_percipio/net/http_date.hpp"

#include "baton_percipio/core/ascii.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace bp::net {
namespace {

bool parse_int(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

int month_index(std::string_view m) {
  static constexpr std::array<std::string_view, 12> names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == m) return static_cast<int>(i) + 1;
  }
  return 0;
}

// "08:49:37"
bool parse_time(std::string_view s, int& h, int& m, int& sec) {
  return s.size() == 8 && s[2] == ':' && s[5] == ':' && parse_int(s.substr(0, 2), h) &&
         parse_int(s.substr(3, 2), m) && parse_int(s.substr(6, 2), sec) && h < 24 && m < 60 && sec <= 60;
}

std::optional<sys_time> make_time(int y, int mon, int d, int h, int m, int s) {
  using namespace std::chrono;
  // sys_time counts nanoseconds (years 1678..2262): anything outside 1900..2200 is garbage and
  // would overflow the conversion (found by fuzz_headers with "Sun Nov  6 08:49:37 4").
  if (y < 1900 || y > 2200) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mon)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_time(sys_days(ymd)) + hours(h) + minutes(m) + seconds(s);
}

// Splits on runs of spaces.
template <std::size_t N>
bool split(std::string_view s, std::array<std::string_view, N>& out) {
  std::size_t n = 0;
  while (!s.empty()) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty()) break;
    auto end = s.find(' ');
    if (n == N) return false;
    out[n++] = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  }
  return n == N;
}

}  // namespace

std::optional<sys_time> parse_http_date(std::string_view text) {
  text = ascii::trim(text);
  auto comma = text.find(',');
  int y = 0, mon = 0, d = 0, h = 0, m = 0, s = 0;
  if (comma != std::string_view::npos) {
    std::string_view rest = text.substr(comma + 1);
    std::array<std::string_view, 3> rfc850{};
    std::array<std::string_view, 5> imf{};
    if (split(rest, imf)) {
      // IMF-fixdate: "06 Nov 1994 08:49:37 GMT"
      mon = month_index(imf[1]);
      if (imf[4] != "GMT" || mon == 0 || !parse_int(imf[0], d) || !parse_int(imf[2], y) ||
          !parse_time(imf[3], h, m, s))
        return std::nullopt;
      return make_time(y, mon, d, h, m, s);
    }
    if (split(rest, rfc850)) {
      // RFC 850: "06-Nov-94 08:49:37 GMT"; two-digit years below 70 are 20xx.
      std::string_view date = rfc850[0];
      if (rfc850[2] != "GMT" || date.size() != 9 || date[2] != '-' || date[6] != '-') return std::nullopt;
      mon = month_index(date.substr(3, 3));
      if (mon == 0 || !parse_int(date.substr(0, 2), d) || !parse_int(date.substr(7, 2), y) ||
          !parse_time(rfc850[1], h, m, s))
        return std::nullopt;
      y += y < 70 ? 2000 : 1900;
      return make_time(y, mon, d, h, m, s);
    }
    return std::nullopt;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  std::array<std::string_view, 5> asc{};
  if (!split(text, asc)) return std::nullopt;
  mon = month_index(asc[1]);
  if (mon == 0 || !parse_int(asc[2], d) || !parse_time(asc[3], h, m, s) || !parse_int(asc[4], y)) return std::nullopt;
  return make_time(y, mon, d, h, m, s);
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, sys_time now) {
  value = ascii::trim(value);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    std::uint64_t secs = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
    if (ec != std::errc{}) return std::nullopt;
    if (secs > 366ull * 24 * 3600) secs = 366ull * 24 * 3600;
    return std::chrono::milliseconds(secs * 1000);
  }
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (*when <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(*when - now);
}

std::optional<std::chrono::milliseconds> parse_rate_limit_reset(std::string_view value, sys_time now) {
  value = ascii::trim(value);
  double v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || !(v >= 0)) return std::nullopt;
  constexpr double max_wait_s = 366.0 * 24 * 3600;
  if (v > 1e9) {  // a Unix time
    // In double seconds: a huge value (1e20) must not overflow the nanosecond clock (UB; found by
    // fuzz_headers). The wait is capped like a delta.
    const double wait = v - std::chrono::duration<double>(now.time_since_epoch()).count();
    if (!(wait > 0)) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(std::min(wait, max_wait_s) * 1000.0)));
  }
  if (v > max_wait_s) v = max_wait_s;
  return std::chrono::milliseconds(static_cast<std::int64_t>(v * 1000.0 + 0.5));
}

}  // namespace bp::net
