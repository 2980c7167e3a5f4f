#include "baton_percipio/percipio/headers.hpp"

#include <charconv>
#include <string>

#include "baton_percipio/core/ascii.hpp"

namespace bp::percipio {
namespace {

using ascii::iequals;
using ascii::trim;

std::optional<std::uint64_t> parse_uint(std::string_view s) noexcept {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The `offset` query parameter of a URL (relative or absolute).
std::optional<std::uint64_t> offset_of(std::string_view url) noexcept {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = url.substr(q + 1);
  if (auto h = query.find('#'); h != std::string_view::npos) query = query.substr(0, h);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (iequals(trim(pair.substr(0, eq)), "offset")) return parse_uint(pair.substr(eq + 1));
  }
  return std::nullopt;
}

// True when a rel value (quoted or not, space-separated list) contains "last".
bool rel_has_last(std::string_view v) noexcept {
  v = trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  while (!v.empty()) {
    v = trim(v);
    const auto sp = v.find_first_of(" \t");
    if (iequals(v.substr(0, sp), "last")) return true;
    if (sp == std::string_view::npos) break;
    v = v.substr(sp);
  }
  return false;
}

}  // namespace

std::optional<std::uint64_t> parse_link_last_offset(std::string_view link) noexcept {
  std::size_t i = 0;
  const std::size_t n = link.size();
  while (i < n) {
    // Find the next entry's "<url>"; anything before it is garbage to skip.
    const auto lt = link.find('<', i);
    if (lt == std::string_view::npos) return std::nullopt;
    const auto gt = link.find('>', lt + 1);
    if (gt == std::string_view::npos) return std::nullopt;
    const std::string_view url = link.substr(lt + 1, gt - lt - 1);
    // Parameters run up to the next ',' outside quotes (or to the next '<' in broken input).
    std::size_t j = gt + 1;
    bool in_quotes = false;
    bool is_last = false;
    std::size_t param_start = j;
    auto handle_param = [&](std::string_view p) {
      p = trim(p);
      const auto eq = p.find('=');
      if (eq == std::string_view::npos) return;
      if (iequals(trim(p.substr(0, eq)), "rel") && rel_has_last(p.substr(eq + 1))) is_last = true;
    };
    for (; j < n; ++j) {
      const char c = link[j];
      if (c == '"') {
        in_quotes = !in_quotes;
      } else if (!in_quotes && (c == ';' || c == ',')) {
        handle_param(link.substr(param_start, j - param_start));
        param_start = j + 1;
        if (c == ',') break;
      } else if (!in_quotes && c == '<') {
        break;
      }
    }
    if (j >= n || link[j] == '<') handle_param(link.substr(param_start, std::min(j, n) - param_start));
    if (is_last) {
      if (auto off = offset_of(url)) return off;
    }
    i = (j < n && link[j] == ',') ? j + 1 : j;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_total_count(std::string_view value) noexcept { return parse_uint(value); }

}  // namespace bp::percipio
