#include "baton_percipio/percipio/parse.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace bp::percipio;

namespace {

std::string fixture(const char* name) {
  std::ifstream f(std::string(BP_SOURCE_DIR) + "/tests/fixtures/percipio-recorded/" + name, std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("users page: recorded fixture") {
  auto r = parse_users_page(fixture("users0.json"), "users page offset=0");
  REQUIRE(r.ok());
  REQUIRE(r->elements == 1);
  REQUIRE(r->items.size() == 1);
  const user& u = r->items[0];
  CHECK(u.id == "00000000-0000-0000-0000-000000000001");
  CHECK(u.external_user_id == "first.last@example.com");
  CHECK(u.email == "first.last@example.com");
  CHECK(u.login_name.empty());
  CHECK(u.first_name == "First");
  CHECK(u.last_name == "Last");
  CHECK(u.is_active);
  CHECK(u.role == "LEARNER");
  CHECK(u.job_title.empty());
  CHECK(!u.is_instructor);
  CHECK(!u.has_coaching);
  CHECK(!u.has_enterprise_coaching);
  CHECK(!u.has_enterprise_coaching_dashboard.has_value());
  CHECK(u.approval_manager_email.empty());
  REQUIRE(u.custom_attributes.size() == 21);
  CHECK(u.custom_attributes[0].name == "Business Unit");
  CHECK(!u.custom_attributes[0].value.has_value());
  CHECK(u.custom_attributes[2].name == "Country Name");
  CHECK(u.custom_attributes[2].value == "IND");
  CHECK(u.custom_attributes[9].name == "Divison Owner");
}

TEST_CASE("users page: tolerant field reading") {
  const std::string body = R"([
    {"unknown": {"deep": [1, {"x": "]"}]}, "id": "u1", "isActive": "true", "email": null,
     "firstName": 42, "lastName": "O\"Brien \u00e9", "hasCoaching": 1, "isInstructor": "FALSE",
     "hasEnterpriseCoachingDashboard": true, "approvalManager": {"id": "m", "email": "boss@x.io"},
     "customAttributes": [{"id": "a", "name": "Cost", "value": 12.5}, {"name": "n", "value": "v"},
                          "junk", {"value": "no name"}, {"name": "z", "value": null}],
     "jobTitle": ["drift"], "role": {"drift": true}},
    {"id": "u2", "approvalManager": null, "customAttributes": null, "isActive": null},
    {"email": "no-id@x"},
    17,
    {"id": 12345, "isActive": false, "hasEnterpriseCoachingDashboard": null}
  ])";
  auto r = parse_users_page(body, "users page offset=0");
  REQUIRE(r.ok());
  CHECK(r->elements == 5);
  REQUIRE(r->items.size() == 3);
  const user& a = r->items[0];
  CHECK(a.id == "u1");
  CHECK(a.is_active);
  CHECK(a.email.empty());
  CHECK(a.first_name == "42");
  CHECK(a.last_name == "O\"Brien \xC3\xA9");
  CHECK(a.has_coaching);
  CHECK(!a.is_instructor);
  CHECK(a.has_enterprise_coaching_dashboard == true);
  CHECK(a.approval_manager_email == "boss@x.io");
  CHECK(a.job_title.empty());
  CHECK(a.role.empty());
  REQUIRE(a.custom_attributes.size() == 3);
  CHECK(a.custom_attributes[0].value == "12.5");
  CHECK(a.custom_attributes[1].value == "v");
  CHECK(a.custom_attributes[2].name == "z");
  CHECK(!a.custom_attributes[2].value);
  CHECK(r->items[1].id == "u2");
  CHECK(!r->items[1].is_active);
  CHECK(r->items[1].custom_attributes.empty());
  CHECK(r->items[2].id == "12345");
  CHECK(!r->items[2].has_enterprise_coaching_dashboard);
}

TEST_CASE("users page: empty and non-array bodies") {
  auto e = parse_users_page("[]", "users page offset=0");
  REQUIRE(e.ok());
  CHECK(e->elements == 0);
  CHECK(e->items.empty());
  auto ws = parse_users_page(" \n [ ] \n", "users page offset=0");
  REQUIRE(ws.ok());
  auto o = parse_users_page(R"({"errors":[]})", "users page offset=0");
  REQUIRE(!o.ok());
  CHECK(o.error().code == errc::malformed_response);
  CHECK(o.error().message == "users page offset=0: expected a JSON array, got an object");
  auto empty = parse_users_page("", "users page offset=0");
  REQUIRE(!empty.ok());
  CHECK(empty.error().code == errc::malformed_response);
}

TEST_CASE("users page: malformed JSON names endpoint and byte offset") {
  const std::string body = R"([{"id": "a", "isActive": true}, {"id": "b", "isActive": tru}])";
  auto r = parse_users_page(body, "users page offset=2000");
  REQUIRE(!r.ok());
  CHECK(r.error().code == errc::malformed_response);
  const auto& m = r.error().message;
  CHECK(m.rfind("users page offset=2000: malformed JSON at byte ", 0) == 0);
  INFO(m);
  CHECK(m.find("at byte 56 (") != std::string::npos);

  // Truncated page.
  auto t = parse_users_page(R"([{"id": "a"}, {"id": "b", "firstName": "Bo)", "users page offset=1000");
  REQUIRE(!t.ok());
  CHECK(t.error().message.rfind("users page offset=1000: malformed JSON at byte ", 0) == 0);
  auto t2 = parse_users_page(R"([{"id": "a"}, {"id": "b")", "users page offset=1000");
  REQUIRE(!t2.ok());
  auto t3 = parse_users_page(R"([{"id": "a"},)", "users page offset=1000");
  REQUIRE(!t3.ok());
  auto html = parse_users_page("<html>502</html>", "users page offset=0");
  REQUIRE(!html.ok());
  CHECK(html.error().message.find("at byte 0") != std::string::npos);
}

TEST_CASE("catalog page: recorded fixture") {
  auto r = parse_catalog_page(fixture("courses0.json"), "catalog page offset=0");
  REQUIRE(r.ok());
  REQUIRE(r->items.size() == 1);
  const content_item& c = r->items[0];
  CHECK(c.id == "00000000-0000-0000-0000-000000000000");
  CHECK(c.code.empty());
  CHECK(c.percipio_type == "COURSE");
  CHECK(c.lifecycle_status == "ACTIVE");
  REQUIRE(c.titles.size() == 1);
  CHECK(c.titles[0].locale == "en-US");
  CHECK(c.titles[0].title == "Course Overview");
}

TEST_CASE("catalog page: drift, several locales, missing sections") {
  const std::string body = R"([
    {"id": "c1", "code": "it_x_01_enus", "contentType": {"percipioType": "ASSESSMENT", "source": null},
     "localizedMetadata": [{"localeCode": "fr-FR", "title": "Bonjour"}, {"title": ""}, null,
                           {"localeCode": "en-US", "title": "Hello", "description": "<b>{[\"</b>"}],
     "lifecycle": {"status": "INACTIVE", "retiredDate": ""},
     "associations": {"licensedLocales": ["drift"], "parent": null}, "credentials": {"cpeCredits": 1.5}},
    {"id": "c2", "contentType": null, "lifecycle": "drift", "localizedMetadata": {"drift": 1}},
    {"id": "c3", "contentType": {"percipioType": 7}}
  ])";
  auto r = parse_catalog_page(body, "catalog page offset=0");
  REQUIRE(r.ok());
  REQUIRE(r->items.size() == 3);
  const auto& a = r->items[0];
  CHECK(a.code == "it_x_01_enus");
  CHECK(a.percipio_type == "ASSESSMENT");
  CHECK(a.lifecycle_status == "INACTIVE");
  REQUIRE(a.titles.size() == 3);
  CHECK(a.titles[0].locale == "fr-FR");
  CHECK(a.titles[1].locale.empty());
  CHECK(a.titles[2].title == "Hello");
  CHECK(r->items[1].percipio_type.empty());
  CHECK(r->items[1].lifecycle_status.empty());
  CHECK(r->items[1].titles.empty());
  CHECK(r->items[2].percipio_type == "7");
}

TEST_CASE("search results: recorded fixture (no lifecycle, no code)") {
  auto r = parse_search_results(fixture("search_content.json"), "search q=1a3a3f54");
  REQUIRE(r.ok());
  REQUIRE(r->items.size() == 1);
  CHECK(r->items[0].id == "1a3a3f54-b601-4d45-a234-038c980ee20f");
  CHECK(r->items[0].percipio_type == "COURSE");
  CHECK(r->items[0].lifecycle_status.empty());
  REQUIRE(r->items[0].titles.size() == 1);
  CHECK(r->items[0].titles[0].locale == "en");
}

TEST_CASE("report status objects") {
  auto r = parse_report_status(fixture("reportStatus0.json"), "report request");
  REQUIRE(r.ok());
  CHECK(r->state == report_state::pending);
  CHECK(r->id == "00000000-0000-0000-0000-000000000000");

  auto p = parse_report_status(R"({"reportId": "r-1", "status": "in_progress"})", "poll");
  REQUIRE(p.ok());
  CHECK(p->state == report_state::in_progress);
  CHECK(p->id == "r-1");

  auto both = parse_report_status(R"({"reportId": "r-2", "id": "r-1", "status": "PROCESSED"})", "poll");
  REQUIRE(both.ok());
  CHECK(both->id == "r-1");
  CHECK(both->state == report_state::processed);

  auto f = parse_report_status(R"({"reportId": "r", "status": "FAILED", "error": "boom", "x": [1]})", "poll");
  REQUIRE(f.ok());
  CHECK(f->state == report_state::failed);
  CHECK(f->error == "boom");

  auto odd = parse_report_status(R"({"status": "COMPLETED", "error": {"nested": 1}})", "poll");
  REQUIRE(odd.ok());
  CHECK(odd->state == report_state::other);
  CHECK(odd->status == "COMPLETED");
  CHECK(odd->error.empty());

  auto missing = parse_report_status(R"({})", "poll");
  REQUIRE(missing.ok());
  CHECK(missing->status.empty());

  CHECK(!parse_report_status("[]", "poll").ok());
  auto bad = parse_report_status(R"({"status": "PENDING", )", "poll");
  REQUIRE(!bad.ok());
  CHECK(bad.error().message.rfind("poll: malformed JSON at byte", 0) == 0);
}

TEST_CASE("classify_report_body") {
  CHECK(classify_report_body("[{}]") == body_kind::array);
  CHECK(classify_report_body(" \r\n\t[") == body_kind::array);
  CHECK(classify_report_body("\xEF\xBB\xBF[") == body_kind::array);
  CHECK(classify_report_body("  {\"status\"") == body_kind::object);
  CHECK(classify_report_body("") == body_kind::empty);
  CHECK(classify_report_body(" \n ") == body_kind::empty);
  CHECK(classify_report_body("<html>") == body_kind::malformed);
  CHECK(classify_report_body("null") == body_kind::malformed);
}

TEST_CASE("summarize_error_body") {
  CHECK(summarize_error_body(R"({"errors":[{"code":"UNAUTHORIZED","additionalInfo":"bad token"},{"code":"X"}]})") ==
        "UNAUTHORIZED: bad token; X");
  CHECK(summarize_error_body(R"({"error":"nope"})") == "nope");
  CHECK(summarize_error_body("<html>\n <body>Bad   Gateway</body></html>") == "<html> <body>Bad Gateway</body></html>");
  CHECK(summarize_error_body("") == "");
  CHECK(summarize_error_body(std::string(1000, 'a'), 10) == "aaaaaaaaaa...");
  CHECK(summarize_error_body(R"({"errors": "drift"})") == R"({"errors": "drift"})");
}

TEST_CASE("uuid and activity status") {
  auto u = uuid::parse("0A1B2C3D-4E5F-6071-8293-a4b5c6d7e8f9");
  REQUIRE(u);
  CHECK(u->to_string() == "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
  CHECK(!uuid::parse("0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
  CHECK(!uuid::parse("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8fg"));
  CHECK(!uuid::parse(""));
  // Every digit position is checked, with every kind of non-digit (a NUL and high bytes too).
  const std::string good = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9";
  for (std::size_t i = 0; i < good.size(); ++i) {
    if (good[i] == '-') continue;
    for (char bad : {'g', 'G', ' ', '-', '\0', '\xff', '/', ':', '@', '`'}) {
      std::string t = good;
      t[i] = bad;
      CHECK_MESSAGE(!uuid::parse(t), i);
    }
  }
  std::string dashes = good;
  dashes[13] = 'a';
  CHECK(!uuid::parse(dashes));
  CHECK(uuid::parse("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")->to_string() == "ffffffff-ffff-ffff-ffff-ffffffffffff");
  CHECK(uuid::parse("00000000-0000-0000-0000-000000000000")->to_string() == "00000000-0000-0000-0000-000000000000");
  CHECK(parse_activity_status("Started") == activity_status::started);
  CHECK(parse_activity_status("COMPLETED") == activity_status::completed);
  CHECK(parse_activity_status(" watched ") == activity_status::watched);
  CHECK(parse_activity_status("") == activity_status::empty);
  const auto not_started = parse_activity_status(" Not Started ");
  CHECK(not_started >= activity_status::first_unlisted);
  CHECK(to_string(not_started) == "Not Started");  // counted per value as sent, blanks trimmed
  CHECK(parse_activity_status("Not Started") == not_started);
  CHECK(parse_activity_status("not started") != not_started);  // unlisted values keep their case
  CHECK(to_string(parse_activity_status("not started")) == "not started");
  CHECK(sizeof(report_row) == 33);
}
