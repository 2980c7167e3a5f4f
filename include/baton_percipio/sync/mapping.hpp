#pragma once
// How Percipio objects become Baton records (the connector's data model). Pure functions, so every
// rule is pinned by unit tests; the pipeline only moves their output around.
#include <optional>
#include <string>
#include <string_view>

#include "baton_percipio/c1z/records.hpp"
#include "baton_percipio/percipio/model.hpp"

namespace bp::sync {

inline constexpr std::string_view user_type = "user";
inline constexpr std::string_view course_type = "course";
inline constexpr std::string_view slug_completed = "completed";
inline constexpr std::string_view slug_in_progress = "in_progress";

// Resource types "user" (TRAIT_USER, SkipEntitlementsAndGrants) and "course".
c1z::resource_type_record user_resource_type();
c1z::resource_type_record course_resource_type();

// First and last name joined by a space (empty parts skipped), else email, else id.
std::string user_display_name(const percipio::user& u);
// The user resource with its UserTrait (emails, status, login, profile). Takes the user by value:
// the sync moves each one in, its strings move into the record.
c1z::resource_record map_user(percipio::user u);

// True for COURSE / ASSESSMENT items whose lifecycle status is not INACTIVE.
bool is_syncable_course(const percipio::content_item& item);
// The en-US title, else the first non-empty title, else code, else id.
std::string course_display_name(const percipio::content_item& item);
c1z::resource_record map_course(const percipio::content_item& item);
// The `completed` or `in_progress` entitlement of a course.
c1z::entitlement_record course_entitlement(const c1z::resource_record& course, std::string_view slug);

enum class grant_slot : unsigned char { none = 0, in_progress = 1, completed = 2 };
// Completed, Achieved, Listened, Read, Watched -> completed; Started, Active -> in_progress; else none.
grant_slot map_status(percipio::activity_status s);
std::string_view slug_of(grant_slot s);

}  // namespace bp::sync
