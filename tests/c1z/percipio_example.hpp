#pragma once
// The worked example of spec 7.6 as plain records (course c-123, user u-9 Ada Lovelace).
#include "baton_percipio/c1z/records.hpp"

namespace bp::c1z::test {

inline resource_type_record user_type() {
  return {"user", "User", {trait::user}, "", true};
}
inline resource_type_record course_type() { return {"course", "course", {}, "", false}; }

inline resource_record course_c123() { return {"course", "c-123", "Intro to C++", "", std::nullopt}; }

inline resource_record user_u9() {
  user_trait_record t;
  t.emails = {{"ada@example.com", true}};
  t.enabled = true;
  t.login = "ada";
  t.profile = {{"id", std::string("u-9")},
               {"external_id", std::string("ada@example.com")},
               {"approval_manager", std::string("")},
               {"email", std::string("ada@example.com")},
               {"first_name", std::string("Ada")},
               {"has_coaching", false},
               {"has_enterprise_coaching", false},
               {"has_enterprise_coaching_dashboard", false},
               {"is_active", true},
               {"is_instructor", false},
               {"job_title", std::string("Engineer")},
               {"last_name", std::string("Lovelace")},
               {"login_name", std::string("ada")},
               {"role", std::string("LEARNER")}};
  return {"user", "u-9", "Ada Lovelace", "", t};
}

inline entitlement_record completed_entitlement() {
  return {"completed", "Course Intro to C++ completed", "Completed course Intro to C++ in Percipio", {user_type()}};
}

}  // namespace bp::c1z::test
