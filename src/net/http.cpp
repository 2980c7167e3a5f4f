#include "baton_percipio/net/http.hpp"

namespace bp::net {

std::optional<std::string_view> response::header_value(std::string_view name) const {
  return find_header(headers, name);
}

namespace detail {

std::string serialize_request(const request& req, std::string_view user_agent, bool accept_gzip) {
  std::string out;
  out.reserve(256 + req.body.size() + req.u.target.size());
  out += req.method;
  out += ' ';
  out += req.u.target.empty() ? std::string_view("/") : std::string_view(req.u.target);
  out += " HTTP/1.1\r\n";
  auto has = [&](std::string_view n) { return find_header(req.headers, n).has_value(); };
  auto add = [&](std::string_view n, std::string_view v) {
    out += n;
    out += ": ";
    out += v;
    out += "\r\n";
  };
  if (!has("Host")) add("Host", req.u.host_header());
  if (!has("User-Agent") && !user_agent.empty()) add("User-Agent", user_agent);
  if (!has("Accept-Encoding")) add("Accept-Encoding", accept_gzip ? "gzip" : "identity");
  bool wants_length = !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (wants_length && !has("Content-Length")) add("Content-Length", std::to_string(req.body.size()));
  for (const auto& h : req.headers) add(h.name, h.value);
  out += "\r\n";
  out += req.body;
  return out;
}

std::string redacted_headers(const std::vector<header>& headers) {
  std::string out;
  for (const auto& h : headers) {
    if (!out.empty()) out += "; ";
    out += h.name;
    out += ": ";
    bool secret = iequals(h.name, "Authorization") || iequals(h.name, "Proxy-Authorization") ||
                  iequals(h.name, "Cookie") || iequals(h.name, "X-Api-Key");
    out += secret ? std::string_view("[REDACTED]") : std::string_view(h.value);
  }
  return out;
}

}  // namespace detail
}  // namespace bp::net
