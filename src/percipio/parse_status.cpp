// Report status objects, body classification and error-body summaries.
#include <fmt/format.h>

#include "baton_percipio/percipio/parse.hpp"
#include "json_read.hpp"

namespace bp::percipio {
namespace {

using namespace detail;

report_state state_of(std::string_view s) noexcept {
  if (ascii::iequals(s, "pending")) return report_state::pending;
  if (ascii::iequals(s, "in_progress")) return report_state::in_progress;
  if (ascii::iequals(s, "processed")) return report_state::processed;
  if (ascii::iequals(s, "failed")) return report_state::failed;
  return report_state::other;
}

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

result<report_status> parse_report_status(std::string_view body, std::string_view context) {
  auto& st = local_state();
  auto input = st.buffer.load(body);
  const char* base = st.buffer.data();
  od::document doc;
  if (auto e = st.parser.iterate(input).get(doc)) {
    if (e != simdjson::UTF8_ERROR) return json_failure(context, e, 0);
    const std::string repaired = repair_utf8(body);  // bad bytes become U+FFFD
    if (repaired == body) return json_failure(context, e, 0);
    return parse_report_status(repaired, context);
  }
  auto fail = [&](simdjson::error_code e) { return json_failure(context, e, location_of(doc, base, body.size())); };
  od::json_type t;
  if (auto e = doc.type().get(t)) return fail(e);
  if (t != od::json_type::object) {
    return make_failure(errc::malformed_response, fmt::format("{}: expected a report status object", context));
  }
  od::object o;
  if (auto e = doc.get_object().get(o)) return fail(e);
  report_status out;
  std::string report_id;
  for (auto fr : o) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return fail(e);
    const auto k = f.key();
    simdjson::error_code e = simdjson::SUCCESS;
    if (k == "status") e = read_text(f.value(), out.status);
    else if (k == "id") e = read_text(f.value(), out.id);
    else if (k == "reportId") e = read_text(f.value(), report_id);
    else if (k == "error") e = read_text(f.value(), out.error);
    if (e) return fail(e);
  }
  if (out.id.empty()) out.id = std::move(report_id);
  out.state = state_of(out.status);
  return out;
}

body_kind classify_report_body(std::string_view body) noexcept {
  std::size_t i = 0;
  // A UTF-8 byte order mark is whitespace for this purpose.
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < body.size() && is_ws(body[i])) ++i;
  if (i == body.size()) return body_kind::empty;
  if (body[i] == '[') return body_kind::array;
  if (body[i] == '{') return body_kind::object;
  return body_kind::malformed;
}

std::string summarize_error_body(std::string_view body, std::size_t max_len) {
  std::string out;
  if (classify_report_body(body) == body_kind::object) {
    auto& st = local_state();
    auto input = st.buffer.load(body);
    od::document doc;
    od::object o;
    if (!st.parser.iterate(input).get(doc) && !doc.get_object().get(o)) {
      for (auto fr : o) {
        od::field f;
        if (std::move(fr).get(f)) break;
        const auto k = f.key();
        if (k == "error" || k == "message") {
          std::string s;
          if (read_text(f.value(), s)) break;
          if (!s.empty()) out += (out.empty() ? "" : "; ") + s;
        } else if (k == "errors") {
          od::array arr;
          if (f.value().get_array().get(arr)) break;
          for (auto er : arr) {
            od::object eo;
            if (std::move(er).get_object().get(eo)) break;
            std::string code, info;
            for (auto efr : eo) {
              od::field ef;
              if (std::move(efr).get(ef)) break;
              if (ef.key() == "code") (void)read_text(ef.value(), code);
              else if (ef.key() == "additionalInfo" || ef.key() == "message") (void)read_text(ef.value(), info);
            }
            std::string item = code;
            if (!info.empty()) item += (item.empty() ? "" : ": ") + info;
            if (!item.empty()) out += (out.empty() ? "" : "; ") + item;
          }
        }
      }
    }
  }
  if (out.empty()) {
    // Plain text or HTML: keep printable ASCII, collapse whitespace.
    bool space = false;
    for (char c : body) {
      if (out.size() > max_len) break;
      if (is_ws(c)) {
        space = !out.empty();
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) continue;
      if (space) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
  }
  if (out.size() > max_len) {
    out.resize(max_len);
    out += "...";
  }
  return out;
}

}  // namespace bp::percipio
