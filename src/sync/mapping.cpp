#include "baton_percipio/sync/mapping.hpp"

#include <algorithm>
#include <unordered_set>

#include "baton_percipio/core/ascii.hpp"

namespace bp::sync {
namespace {

using ascii::iequals;

// The .proto limits (display names 1024 bytes, descriptions 2048): longer values are cut at a UTF-8
// character boundary so baton-sdk's request validation never rejects a record.
std::string clip_utf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

}  // namespace

c1z::resource_type_record user_resource_type() {
  c1z::resource_type_record rt;
  rt.id = std::string(user_type);
  rt.display_name = "User";
  rt.traits = {c1z::trait::user};
  rt.skip_entitlements_and_grants = true;
  return rt;
}

c1z::resource_type_record course_resource_type() {
  c1z::resource_type_record rt;
  rt.id = std::string(course_type);
  rt.display_name = "course";  // lower case, as the Go connector writes it (format spec 7.6)
  return rt;
}

std::string user_display_name(const percipio::user& u) {
  std::string name = u.first_name;
  if (!u.last_name.empty()) {
    if (!name.empty()) name += ' ';
    name += u.last_name;
  }
  if (!name.empty()) return clip_utf8(std::move(name), 1024);
  if (!u.email.empty()) return clip_utf8(u.email, 1024);
  return u.id;
}

namespace {

bool has_key(const std::vector<c1z::profile_field>& p, std::size_t from, std::size_t to, std::string_view key) {
  for (std::size_t i = from; i < to; ++i) {
    if (p[i].key == key) return true;
  }
  return false;
}

}  // namespace

c1z::resource_record map_user(percipio::user u) {
  c1z::resource_record r;
  r.type = std::string(user_type);
  r.display_name = user_display_name(u);
  c1z::user_trait_record t;
  if (!u.email.empty()) t.emails.push_back({u.email, true});
  t.enabled = u.is_active;
  t.login = u.login_name;
  auto& p = t.profile;
  p.reserve(14 + u.custom_attributes.size());  // no reallocation below: `many` points into p
  p.push_back({"id", u.id});
  p.push_back({"external_id", std::move(u.external_user_id)});
  p.push_back({"email", std::move(u.email)});
  p.push_back({"first_name", std::move(u.first_name)});
  p.push_back({"last_name", std::move(u.last_name)});
  p.push_back({"login_name", std::move(u.login_name)});
  p.push_back({"role", std::move(u.role)});
  p.push_back({"job_title", std::move(u.job_title)});
  p.push_back({"is_active", u.is_active});
  p.push_back({"is_instructor", u.is_instructor});
  p.push_back({"has_coaching", u.has_coaching});
  p.push_back({"has_enterprise_coaching", u.has_enterprise_coaching});
  if (u.has_enterprise_coaching_dashboard) {
    p.push_back({"has_enterprise_coaching_dashboard", *u.has_enterprise_coaching_dashboard});
  }
  p.push_back({"approval_manager", std::move(u.approval_manager_email)});
  r.id = std::move(u.id);
  // Custom attributes never overwrite the built-in keys above (an attribute named "email" would
  // otherwise replace the real address): such a name is kept as "custom:<name>". The first
  // attribute of a repeated name wins.
  const std::size_t first_custom = p.size();
  std::unordered_set<std::string_view> many;  // only for users with many attributes
  const bool use_set = u.custom_attributes.size() > 16;
  for (auto& a : u.custom_attributes) {
    if (a.name.empty()) continue;
    const bool builtin = has_key(p, 0, first_custom, a.name);
    std::string key = builtin ? "custom:" + a.name : std::move(a.name);
    if (use_set ? many.count(key) != 0 : has_key(p, first_custom, p.size(), key)) continue;
    p.push_back({std::move(key), a.value ? std::move(*a.value) : std::string()});
    if (use_set) many.insert(p.back().key);
  }
  r.user_trait = std::move(t);
  return r;
}

bool is_syncable_course(const percipio::content_item& item) {
  if (item.id.empty()) return false;
  if (!iequals(item.percipio_type, "COURSE") && !iequals(item.percipio_type, "ASSESSMENT")) return false;
  return !iequals(item.lifecycle_status, "INACTIVE");
}

std::string course_display_name(const percipio::content_item& item) {
  for (const auto& t : item.titles) {
    if (t.locale == "en-US" && !t.title.empty()) return clip_utf8(t.title, 1024);
  }
  for (const auto& t : item.titles) {
    if (!t.title.empty()) return clip_utf8(t.title, 1024);
  }
  if (!item.code.empty()) return clip_utf8(item.code, 1024);
  return item.id;
}

c1z::resource_record map_course(const percipio::content_item& item) {
  c1z::resource_record r;
  r.type = std::string(course_type);
  r.id = item.id;
  r.display_name = course_display_name(item);
  return r;
}

c1z::entitlement_record course_entitlement(const c1z::resource_record& course, std::string_view slug) {
  c1z::entitlement_record e;
  e.slug = std::string(slug);
  e.display_name = clip_utf8("Course " + course.display_name + " " + std::string(slug), 1024);
  e.description = clip_utf8(
      (slug == slug_completed ? "Completed course " : "In progress course ") + course.display_name + " in Percipio",
      2048);
  e.grantable_to = {user_resource_type()};
  return e;
}

grant_slot map_status(percipio::activity_status s) {
  using percipio::activity_status;
  switch (s) {
    case activity_status::completed:
    case activity_status::achieved:
    case activity_status::listened:
    case activity_status::read:
    case activity_status::watched:
      return grant_slot::completed;
    case activity_status::started:
    case activity_status::active:
      return grant_slot::in_progress;
    default:
      return grant_slot::none;
  }
}

std::string_view slug_of(grant_slot s) {
  return s == grant_slot::completed ? slug_completed : s == grant_slot::in_progress ? slug_in_progress : "";
}

}  // namespace bp::sync
