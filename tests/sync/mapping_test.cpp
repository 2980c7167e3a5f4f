#include "baton_percipio/sync/mapping.hpp"

#include <doctest/doctest.h>

using namespace bp::sync;
using bp::percipio::activity_status;
using bp::percipio::content_item;
using bp::percipio::user;

namespace {

const bp::c1z::profile_value* profile_get(const bp::c1z::resource_record& r, std::string_view key) {
  for (const auto& f : r.user_trait->profile) {
    if (f.key == key) return &f.value;
  }
  return nullptr;
}

std::string profile_string(const bp::c1z::resource_record& r, std::string_view key) {
  auto* v = profile_get(r, key);
  REQUIRE(v != nullptr);
  REQUIRE(std::holds_alternative<std::string>(*v));
  return std::get<std::string>(*v);
}

}  // namespace

TEST_CASE("user display name: first and last, else email, else id") {
  user u;
  u.id = "11111111-2222-3333-4444-555555555555";
  CHECK(user_display_name(u) == u.id);
  u.email = "a@example.com";
  CHECK(user_display_name(u) == "a@example.com");
  u.last_name = "Lovelace";
  CHECK(user_display_name(u) == "Lovelace");
  u.first_name = "Ada";
  CHECK(user_display_name(u) == "Ada Lovelace");
  u.last_name.clear();
  CHECK(user_display_name(u) == "Ada");
}

TEST_CASE("display names longer than the proto limit are cut at a UTF-8 boundary") {
  user u;
  u.id = "x";
  u.first_name = std::string(1022, 'a') + "\xC3\xA9\xC3\xA9";  // 1026 bytes, é straddles 1024
  auto n = user_display_name(u);
  CHECK(n.size() == 1024);
  CHECK(n.substr(1022) == "\xC3\xA9");
}

TEST_CASE("user resource: trait, status, login, profile keys and custom attributes") {
  user u;
  u.id = "u-9";
  u.external_user_id = "ada@example.com";
  u.email = "ada@example.com";
  u.login_name = "ada";
  u.first_name = "Ada";
  u.last_name = "Lovelace";
  u.is_active = true;
  u.role = "LEARNER";
  u.job_title = "Engineer";
  u.has_coaching = true;
  u.custom_attributes = {{"Divison Owner", std::string("Ops")}, {"Cost Center", std::nullopt},
                         {"email", std::string("other@example.com")}, {"Divison Owner", std::string("dup")}};
  auto r = map_user(u);
  CHECK(r.type == "user");
  CHECK(r.id == "u-9");
  CHECK(r.display_name == "Ada Lovelace");
  REQUIRE(r.user_trait);
  const auto& t = *r.user_trait;
  REQUIRE(t.emails.size() == 1);
  CHECK(t.emails[0].address == "ada@example.com");
  CHECK(t.emails[0].primary);
  CHECK(t.enabled);
  CHECK(t.login == "ada");
  for (auto key : {"id", "external_id", "email", "first_name", "last_name", "login_name", "role", "job_title",
                   "approval_manager"}) {
    CHECK_MESSAGE(profile_get(r, key) != nullptr, key);
  }
  for (auto key : {"is_active", "is_instructor", "has_coaching", "has_enterprise_coaching"}) {
    auto* v = profile_get(r, key);
    REQUIRE_MESSAGE(v != nullptr, key);
    CHECK(std::holds_alternative<bool>(*v));
  }
  CHECK(std::get<bool>(*profile_get(r, "has_coaching")));
  CHECK(profile_get(r, "has_enterprise_coaching_dashboard") == nullptr);  // absent upstream: not invented
  CHECK(profile_string(r, "Divison Owner") == "Ops");                     // first of a repeated name wins
  CHECK(profile_string(r, "Cost Center").empty());                        // null becomes ""
  CHECK(profile_string(r, "email") == "ada@example.com");                 // built-in key is not overwritten
  CHECK(profile_string(r, "custom:email") == "other@example.com");
}

TEST_CASE("many custom attributes: the same collision rules, every distinct name kept once, in order") {
  user u;
  u.id = "u-7";
  u.email = "real@example.com";
  for (int i = 0; i < 40; ++i) u.custom_attributes.push_back({"attr" + std::to_string(i % 30), std::to_string(i)});
  u.custom_attributes.push_back({"role", std::string("custom role")});
  u.custom_attributes.push_back({"custom:role", std::string("second")});  // the name "custom:role" is taken
  u.custom_attributes.push_back({"", std::string("nameless")});
  const auto r = map_user(u);
  const auto& p = r.user_trait->profile;
  std::vector<std::string> custom;
  for (std::size_t i = 13; i < p.size(); ++i) custom.push_back(p[i].key);
  REQUIRE(custom.size() == 31);
  for (int i = 0; i < 30; ++i) {
    CHECK(custom[static_cast<std::size_t>(i)] == "attr" + std::to_string(i));
    CHECK(profile_string(r, "attr" + std::to_string(i)) == std::to_string(i));  // the first one wins
  }
  CHECK(custom[30] == "custom:role");
  CHECK(profile_string(r, "custom:role") == "custom role");
  CHECK(profile_string(r, "email") == "real@example.com");
}

TEST_CASE("inactive user without email or login: disabled, no email entry, no login") {
  user u;
  u.id = "u-1";
  u.is_active = false;
  u.has_enterprise_coaching_dashboard = true;
  auto r = map_user(u);
  CHECK_FALSE(r.user_trait->enabled);
  CHECK(r.user_trait->emails.empty());
  CHECK(r.user_trait->login.empty());
  CHECK(std::get<bool>(*profile_get(r, "has_enterprise_coaching_dashboard")));
}

TEST_CASE("courses: type and lifecycle filter") {
  content_item c;
  c.id = "c-1";
  c.percipio_type = "COURSE";
  c.lifecycle_status = "ACTIVE";
  CHECK(is_syncable_course(c));
  c.percipio_type = "ASSESSMENT";
  CHECK(is_syncable_course(c));
  c.lifecycle_status = "";  // search results omit lifecycle
  CHECK(is_syncable_course(c));
  c.lifecycle_status = "INACTIVE";
  CHECK_FALSE(is_syncable_course(c));
  c.lifecycle_status = "ACTIVE";
  for (auto t : {"VIDEO", "BOOK", "CHANNEL", "JOURNEY", "AUDIOBOOK", "LINKED_CONTENT", ""}) {
    c.percipio_type = t;
    CHECK_FALSE(is_syncable_course(c));
  }
}

TEST_CASE("course display name: en-US title, else first non-empty, else code, else id") {
  content_item c;
  c.id = "c-1";
  CHECK(course_display_name(c) == "c-1");
  c.code = "it_abc_01_enus";
  CHECK(course_display_name(c) == "it_abc_01_enus");
  c.titles = {{"fr-FR", ""}, {"de-DE", "Kurs"}, {"en", "Course (en)"}};
  CHECK(course_display_name(c) == "Kurs");
  c.titles.push_back({"en-US", ""});
  CHECK(course_display_name(c) == "Kurs");  // empty en-US title falls through
  c.titles.push_back({"en-US", "Intro to C++"});
  CHECK(course_display_name(c) == "Intro to C++");
}

TEST_CASE("course entitlements: names, descriptions and principal type") {
  content_item c;
  c.id = "c-123";
  c.titles = {{"en-US", "Intro to C++"}};
  auto course = map_course(c);
  auto e = course_entitlement(course, slug_completed);
  CHECK(e.slug == "completed");
  CHECK(e.display_name == "Course Intro to C++ completed");
  CHECK(e.description == "Completed course Intro to C++ in Percipio");
  REQUIRE(e.grantable_to.size() == 1);
  CHECK(e.grantable_to[0].id == "user");
  auto p = course_entitlement(course, slug_in_progress);
  CHECK(p.display_name == "Course Intro to C++ in_progress");
  CHECK(p.description == "In progress course Intro to C++ in Percipio");
}

TEST_CASE("report status mapping") {
  for (auto s : {activity_status::completed, activity_status::achieved, activity_status::listened,
                 activity_status::read, activity_status::watched}) {
    CHECK(map_status(s) == grant_slot::completed);
  }
  CHECK(map_status(activity_status::started) == grant_slot::in_progress);
  CHECK(map_status(activity_status::active) == grant_slot::in_progress);
  for (auto s : {activity_status::empty, activity_status::abandoned, activity_status::other,
                 bp::percipio::parse_activity_status("In Progress")}) {
    CHECK(map_status(s) == grant_slot::none);
  }
  CHECK(slug_of(grant_slot::completed) == "completed");
  CHECK(slug_of(grant_slot::in_progress) == "in_progress");
}

TEST_CASE("resource types") {
  auto u = user_resource_type();
  CHECK(u.id == "user");
  CHECK(u.display_name == "User");
  CHECK(u.skip_entitlements_and_grants);
  REQUIRE(u.traits.size() == 1);
  CHECK(u.traits[0] == bp::c1z::trait::user);
  auto c = course_resource_type();
  CHECK(c.id == "course");
  CHECK(c.display_name == "course");  // lower case (format spec 7.6)
  CHECK(c.traits.empty());
  CHECK_FALSE(c.skip_entitlements_and_grants);
}
