#include "baton_percipio/httpd/request.hpp"

namespace bp::httpd {
using ascii::hex_value;

const std::string* request::find_header(std::string_view name) const {
  for (const auto& h : headers) {
    if (ascii::iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::string_view request::header_value(std::string_view name) const {
  return http::find_header(headers, name).value_or(std::string_view());
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<query_param> parse_query(std::string_view query) {
  std::vector<query_param> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.push_back({percent_decode(part), {}});
    } else {
      out.push_back({percent_decode(part.substr(0, eq)), percent_decode(part.substr(eq + 1))});
    }
  }
  return out;
}

}  // namespace bp::httpd
