#pragma once
// Small recorded tenants written on the fly (users.json, catalog.json, report.json), for shapes the
// checked-in fixtures do not have: invalid UTF-8, lone surrogate escapes, duplicates across pages.
#include <cstdio>
#include <string>
#include <vector>

#include "helpers.hpp"

namespace bp::hardening {

inline std::string user_uuid(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}
inline std::string course_uuid(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "c0000000-0000-4000-8000-%012d", i);
  return buf;
}

// first/last are inserted into the JSON as raw bytes (they may hold escapes or invalid UTF-8).
inline std::string user_json(int i, std::string_view first, std::string_view last) {
  return "{\"id\":\"" + user_uuid(i) + "\",\"email\":\"u" + std::to_string(i) +
         "@example.com\",\"isActive\":true,\"firstName\":\"" + std::string(first) + "\",\"lastName\":\"" +
         std::string(last) + "\",\"loginName\":\"u" + std::to_string(i) +
         "\",\"role\":\"LEARNER\",\"customAttributes\":[{\"name\":\"Dept\",\"value\":\"" + std::string(last) +
         "\"}]}";
}

inline std::string course_json(int i, std::string_view title) {
  return "{\"id\":\"" + course_uuid(i) +
         "\",\"code\":null,\"contentType\":{\"percipioType\":\"COURSE\"},\"lifecycle\":{\"status\":\"ACTIVE\"},"
         "\"localizedMetadata\":[{\"localeCode\":\"en-US\",\"title\":\"" +
         std::string(title) + "\",\"description\":\"" + std::string(title) + "\"}]}";
}

inline std::string row_json(int user, int course, std::string_view status, std::string_view title = "x") {
  return "{\"contentTitle\":\"" + std::string(title) + "\",\"userUuid\":\"" + user_uuid(user) +
         "\",\"contentUuid\":\"" + course_uuid(course) + "\",\"status\":\"" + std::string(status) + "\"}";
}

inline std::string json_array(const std::vector<std::string>& elems) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < elems.size(); ++i) out += (i ? ",\n" : "") + elems[i];
  return out + "\n]\n";
}

inline void write_tenant(const fs::path& dir, const std::vector<std::string>& users,
                         const std::vector<std::string>& catalog, const std::vector<std::string>& rows) {
  fs::create_directories(dir);
  write_file(dir / "users.json", json_array(users));
  write_file(dir / "catalog.json", json_array(catalog));
  write_file(dir / "report.json", json_array(rows));
}

}  // namespace bp::hardening
