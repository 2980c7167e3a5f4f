#pragma once
// UTC time as text: RFC 3339 timestamps and the HTTP-date, and the civil fields they are made of.
// Computed with std::chrono::year_month_day (no time zone, no locale).
#include <chrono>
#include <cstdint>
#include <string>

namespace bp::time_format {

struct utc_fields {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  unsigned weekday = 4;  // 0 = Sunday
};

// The calendar fields of a UTC time, its fraction of a second dropped (rounded down).
utc_fields utc_fields_of(std::chrono::system_clock::time_point t);
utc_fields utc_fields_of(std::chrono::sys_seconds t);

// "2026-12-02T14:53:07Z".
std::string rfc3339(std::chrono::system_clock::time_point t);
// "2026-12-02T14:53:07.123Z".
std::string rfc3339_millis(std::chrono::system_clock::time_point t);
// RFC 9110 IMF-fixdate: "Wed, 02 Dec 2026 14:53:07 GMT".
std::string http_date(std::chrono::system_clock::time_point t);

}  // namespace bp::time_format
