// Users, catalog and search pages: a top-level array of objects, fields read in document order.
#include <fmt/format.h>

#include "baton_percipio/percipio/parse.hpp"
#include "json_read.hpp"

namespace bp::percipio {
namespace {

using namespace detail;
using simdjson::error_code;

#define BP_TRY(expr)                 \
  do {                               \
    if (error_code e_ = (expr)) return e_; \
  } while (0)

error_code read_approval_manager(od::value v, std::string& email) {
  od::json_type t;
  BP_TRY(v.type().get(t));
  if (t != od::json_type::object) return simdjson::SUCCESS;
  od::object o;
  BP_TRY(v.get_object().get(o));
  for (auto fr : o) {
    od::field f;
    BP_TRY(std::move(fr).get(f));
    if (f.key() == "email") BP_TRY(read_text(f.value(), email));
  }
  return simdjson::SUCCESS;
}

error_code read_custom_attributes(od::value v, std::vector<custom_attribute>& out) {
  od::json_type t;
  BP_TRY(v.type().get(t));
  if (t != od::json_type::array) return simdjson::SUCCESS;
  od::array arr;
  BP_TRY(v.get_array().get(arr));
  for (auto er : arr) {
    od::value elem;
    BP_TRY(std::move(er).get(elem));
    BP_TRY(elem.type().get(t));
    if (t != od::json_type::object) continue;
    od::object o;
    BP_TRY(elem.get_object().get(o));
    custom_attribute attr;
    bool has_name = false;
    for (auto fr : o) {
      od::field f;
      BP_TRY(std::move(fr).get(f));
      const auto k = f.key();
      if (k == "name") {
        BP_TRY(read_text(f.value(), attr.name));
        has_name = true;
      } else if (k == "value") {
        BP_TRY(read_optional_text(f.value(), attr.value));
      }
    }
    if (has_name && !attr.name.empty()) out.push_back(std::move(attr));
  }
  return simdjson::SUCCESS;
}

error_code read_user(od::object o, user& u) {
  for (auto fr : o) {
    od::field f;
    BP_TRY(std::move(fr).get(f));
    const auto k = f.key();
    od::value v = f.value();
    if (k == "id") BP_TRY(read_text(v, u.id));
    else if (k == "externalUserId") BP_TRY(read_text(v, u.external_user_id));
    else if (k == "email") BP_TRY(read_text(v, u.email));
    else if (k == "loginName") BP_TRY(read_text(v, u.login_name));
    else if (k == "firstName") BP_TRY(read_text(v, u.first_name));
    else if (k == "lastName") BP_TRY(read_text(v, u.last_name));
    else if (k == "isActive") BP_TRY(read_bool(v, u.is_active));
    else if (k == "role") BP_TRY(read_text(v, u.role));
    else if (k == "jobTitle") BP_TRY(read_text(v, u.job_title));
    else if (k == "isInstructor") BP_TRY(read_bool(v, u.is_instructor));
    else if (k == "hasCoaching") BP_TRY(read_bool(v, u.has_coaching));
    else if (k == "hasEnterpriseCoaching") BP_TRY(read_bool(v, u.has_enterprise_coaching));
    else if (k == "hasEnterpriseCoachingDashboard") {
      od::json_type t;
      BP_TRY(v.type().get(t));
      if (t != od::json_type::null) {
        bool b = false;
        BP_TRY(read_bool(v, b));
        u.has_enterprise_coaching_dashboard = b;
      }
    } else if (k == "approvalManager") BP_TRY(read_approval_manager(v, u.approval_manager_email));
    else if (k == "customAttributes") BP_TRY(read_custom_attributes(v, u.custom_attributes));
  }
  return simdjson::SUCCESS;
}

error_code read_member(od::value v, std::string_view name, std::string& out) {
  od::json_type t;
  BP_TRY(v.type().get(t));
  if (t != od::json_type::object) return simdjson::SUCCESS;
  od::object o;
  BP_TRY(v.get_object().get(o));
  for (auto fr : o) {
    od::field f;
    BP_TRY(std::move(fr).get(f));
    if (f.key() == name) BP_TRY(read_text(f.value(), out));
  }
  return simdjson::SUCCESS;
}

error_code read_titles(od::value v, std::vector<localized_title>& out) {
  od::json_type t;
  BP_TRY(v.type().get(t));
  if (t != od::json_type::array) return simdjson::SUCCESS;
  od::array arr;
  BP_TRY(v.get_array().get(arr));
  for (auto er : arr) {
    od::value elem;
    BP_TRY(std::move(er).get(elem));
    BP_TRY(elem.type().get(t));
    if (t != od::json_type::object) continue;
    od::object o;
    BP_TRY(elem.get_object().get(o));
    localized_title lt;
    for (auto fr : o) {
      od::field f;
      BP_TRY(std::move(fr).get(f));
      const auto k = f.key();
      if (k == "localeCode") BP_TRY(read_text(f.value(), lt.locale));
      else if (k == "title") BP_TRY(read_text(f.value(), lt.title));
    }
    out.push_back(std::move(lt));
  }
  return simdjson::SUCCESS;
}

error_code read_item(od::object o, content_item& c) {
  for (auto fr : o) {
    od::field f;
    BP_TRY(std::move(fr).get(f));
    const auto k = f.key();
    od::value v = f.value();
    if (k == "id") BP_TRY(read_text(v, c.id));
    else if (k == "code") BP_TRY(read_text(v, c.code));
    else if (k == "contentType") BP_TRY(read_member(v, "percipioType", c.percipio_type));
    else if (k == "lifecycle") BP_TRY(read_member(v, "status", c.lifecycle_status));
    else if (k == "localizedMetadata") BP_TRY(read_titles(v, c.titles));
  }
  return simdjson::SUCCESS;
}

// Parses a top-level array of objects; `read` fills one T per object element; elements without
// an id are dropped but still counted.
template <class T, class Reader>
result<page<T>> parse_array_page(std::string_view body, std::string_view context, Reader read) {
  auto& st = local_state();
  auto input = st.buffer.load(body);
  const char* base = st.buffer.data();
  od::document doc;
  if (auto e = st.parser.iterate(input).get(doc)) {
    if (e != simdjson::UTF8_ERROR) return json_failure(context, e, 0);
    // Invalid UTF-8 somewhere in the page: parse a repaired copy (bad bytes become U+FFFD).
    const std::string repaired = repair_utf8(body);
    if (repaired == body) return json_failure(context, e, 0);
    return parse_array_page<T>(repaired, context, read);
  }
  od::json_type t;
  if (auto e = doc.type().get(t)) return json_failure(context, e, location_of(doc, base, 0));
  if (t != od::json_type::array) {
    return make_failure(errc::malformed_response,
                        fmt::format("{}: expected a JSON array, got {}", context,
                                    t == od::json_type::object ? "an object" : "a scalar"));
  }
  page<T> out;
  od::array arr;
  auto fail = [&](error_code e) { return json_failure(context, e, location_of(doc, base, body.size())); };
  if (auto e = doc.get_array().get(arr)) return fail(e);
  for (auto er : arr) {
    od::value elem;
    if (auto e = std::move(er).get(elem)) return fail(e);
    ++out.elements;
    if (auto e = elem.type().get(t)) return fail(e);
    if (t != od::json_type::object) continue;
    od::object o;
    if (auto e = elem.get_object().get(o)) return fail(e);
    T item;
    if (auto e = read(o, item)) return fail(e);
    if (!item.id.empty()) out.items.push_back(std::move(item));
  }
  return out;
}

}  // namespace

result<page<user>> parse_users_page(std::string_view body, std::string_view context) {
  return parse_array_page<user>(body, context, read_user);
}

result<page<content_item>> parse_catalog_page(std::string_view body, std::string_view context) {
  return parse_array_page<content_item>(body, context, read_item);
}

result<page<content_item>> parse_search_results(std::string_view body, std::string_view context) {
  return parse_array_page<content_item>(body, context, read_item);
}

}  // namespace bp::percipio
