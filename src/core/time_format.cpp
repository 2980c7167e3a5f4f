// UTC time as text: RFC 3339, HTTP-date and their civil fields.
#include "baton_percipio/core/time_format.hpp"

#include <fmt/format.h>

namespace bp::time_format {

utc_fields utc_fields_of(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> tod(t - day);
  utc_fields f;
  f.year = static_cast<int>(ymd.year());
  f.month = static_cast<unsigned>(ymd.month());
  f.day = static_cast<unsigned>(ymd.day());
  f.hour = static_cast<unsigned>(tod.hours().count());
  f.minute = static_cast<unsigned>(tod.minutes().count());
  f.second = static_cast<unsigned>(tod.seconds().count());
  f.weekday = weekday(day).c_encoding();
  return f;
}

utc_fields utc_fields_of(std::chrono::system_clock::time_point t) {
  return utc_fields_of(std::chrono::floor<std::chrono::seconds>(t));
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const utc_fields f = utc_fields_of(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", f.year, f.month, f.day, f.hour, f.minute, f.second);
}

std::string rfc3339_millis(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const utc_fields f = utc_fields_of(t);
  const auto ms = duration_cast<milliseconds>(t - floor<seconds>(t)).count();
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", f.year, f.month, f.day, f.hour, f.minute, f.second,
                     ms);
}

std::string http_date(std::chrono::system_clock::time_point t) {
  static constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const utc_fields f = utc_fields_of(t);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", weekdays[f.weekday], f.day, months[f.month - 1],
                     f.year, f.hour, f.minute, f.second);
}

}  // namespace bp::time_format
