// core/ascii.hpp and core/time_format.hpp: the shared text helpers.
#include <doctest/doctest.h>

#include <chrono>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/core/time_format.hpp"

using namespace std::chrono;
namespace ascii = bp::ascii;
namespace tf = bp::time_format;

TEST_CASE("ascii: case-insensitive equality, lower, trim") {
  CHECK(ascii::iequals("Content-Length", "content-length"));
  CHECK(ascii::iequals("", ""));
  CHECK_FALSE(ascii::iequals("abc", "abd"));
  CHECK_FALSE(ascii::iequals("abc", "ab"));
  CHECK_FALSE(ascii::iequals("@", "`"));  // only letters fold
  CHECK_FALSE(ascii::iequals("\xC3\x89", "\xC3\xA9"));  // bytes above ASCII compare as they are
  CHECK(ascii::lower("MiXeD-123") == "mixed-123");
  CHECK(ascii::trim(" \t\r\n\f\vx y\t ") == "x y");
  CHECK(ascii::trim("   ").empty());
  static_assert(ascii::iequals("GZIP", "gzip"));
}

TEST_CASE("time_format: RFC 3339, HTTP-date and fields, before and after the epoch") {
  const system_clock::time_point t = sys_days(year(2026) / 12 / 2) + 14h + 53min + 7s + 123456us;
  CHECK(tf::rfc3339(t) == "2026-12-02T14:53:07Z");
  CHECK(tf::rfc3339_millis(t) == "2026-12-02T14:53:07.123Z");
  CHECK(tf::http_date(t) == "Wed, 02 Dec 2026 14:53:07 GMT");
  CHECK(tf::http_date(system_clock::time_point(seconds(784111777))) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(tf::rfc3339(system_clock::time_point{}) == "1970-01-01T00:00:00Z");
  const auto f = tf::utc_fields_of(sys_seconds(seconds(-1)));
  CHECK(f.year == 1969);
  CHECK(f.month == 12);
  CHECK(f.day == 31);
  CHECK(f.hour == 23);
  CHECK(f.second == 59);
  CHECK(f.weekday == 3);  // Wednesday
  CHECK(tf::rfc3339(sys_days(year(2024) / 2 / 29) + 23h + 59min + 59s) == "2024-02-29T23:59:59Z");
}
