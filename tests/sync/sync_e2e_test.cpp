// End-to-end: the fixture server serves a tenant, run_sync writes a c1z, the c1z reader reads it back,
// and every mapping rule is checked against expectations computed here from the tenant's JSON.
#include <doctest/doctest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/expected_counts.hpp"
#include "baton_percipio/fixture/generated_tenant.hpp"
#include "baton_percipio/fixture/recorded_tenant.hpp"
#include "baton_percipio/sync/run.hpp"
#include "c1/connector/v2/annotation_trait.pb.h"
#include "sync/sync_test_env.hpp"

namespace fs = std::filesystem;
namespace fx = bp::fixture;
using namespace bp::sync;
using namespace bp::sync::test;

namespace {

const std::string recorded_dir = std::string(BP_SOURCE_DIR) + "/tests/fixtures/percipio/recorded-small";

std::shared_ptr<fx::recorded_tenant> recorded() {
  std::string err;
  auto t = fx::recorded_tenant::load(recorded_dir, &err);
  REQUIRE_MESSAGE(t, err);
  return t;
}

std::string str(simdjson::simdjson_result<simdjson::dom::element> e) {
  std::string_view s;
  return e.get(s) == simdjson::SUCCESS ? std::string(s) : std::string();
}

std::string lower_trim(std::string s) { return bp::ascii::lower(bp::ascii::trim(s)); }

// Expectations computed from the recorded JSON with the rules written out once more, independently.
struct expectations {
  std::map<std::string, std::string> user_names;  // id -> display name
  std::map<std::string, bool> user_enabled;
  std::map<std::string, std::string> user_email;
  std::map<std::string, std::string> user_login;
  std::map<std::string, std::string> course_names;  // id -> display name
  std::set<std::string> grant_ids;
};

expectations expect_from_json() {
  expectations x;
  simdjson::dom::parser parser;
  simdjson::dom::element users = parser.load(recorded_dir + "/users.json");
  for (auto u : users.get_array()) {
    std::string id = str(u["id"]);
    if (x.user_names.count(id)) continue;  // first copy wins
    std::string first = str(u["firstName"]), last = str(u["lastName"]), email = str(u["email"]);
    std::string name = first;
    if (!last.empty()) name += (name.empty() ? "" : " ") + last;
    if (name.empty()) name = email.empty() ? id : email;
    x.user_names[id] = name;
    bool active = false;
    if (u["isActive"].get(active) != simdjson::SUCCESS) active = false;
    x.user_enabled[id] = active;
    x.user_email[id] = email;
    x.user_login[id] = str(u["loginName"]);
  }
  simdjson::dom::parser p2;
  simdjson::dom::element catalog = p2.load(recorded_dir + "/catalog.json");
  for (auto c : catalog.get_array()) {
    std::string type = str(c["contentType"]["percipioType"]);
    std::string status = str(c["lifecycle"]["status"]);
    if ((type != "COURSE" && type != "ASSESSMENT") || status == "INACTIVE") continue;
    std::string id = str(c["id"]), name, first_non_empty;
    simdjson::dom::array meta;
    if (c["localizedMetadata"].get(meta) == simdjson::SUCCESS) {
      for (auto m : meta) {
        std::string title = str(m["title"]);
        if (title.empty()) continue;
        if (str(m["localeCode"]) == "en-US" && name.empty()) name = title;
        if (first_non_empty.empty()) first_non_empty = title;
      }
    }
    if (name.empty()) name = first_non_empty;
    if (name.empty()) name = str(c["code"]);
    if (name.empty()) name = id;
    x.course_names[id] = name;
  }
  simdjson::dom::parser p3;
  simdjson::dom::element report = p3.load(recorded_dir + "/report.json");
  std::map<std::pair<std::string, std::string>, int> best;
  for (auto r : report.get_array()) {
    std::string u = str(r["userUuid"]), c = str(r["contentUuid"]), s = lower_trim(str(r["status"]));
    if (!x.user_names.count(u) || !x.course_names.count(c)) continue;
    int rank = (s == "completed" || s == "achieved" || s == "listened" || s == "read" || s == "watched") ? 2
               : (s == "started" || s == "active")                                                     ? 1
                                                                                                       : 0;
    if (rank) best[{u, c}] = std::max(best[{u, c}], rank);
  }
  for (const auto& [k, rank] : best) {
    x.grant_ids.insert("course:" + k.second + (rank == 2 ? ":completed" : ":in_progress") + ":user:" + k.first);
  }
  return x;
}

// Every record of the file's sync as (table, external id, data bytes), sorted.
std::vector<std::string> dump(const fs::path& file) {
  bp::c1z::reader r(file);
  std::vector<std::string> out;
  auto add = [&](const char* t, std::string_view id, std::string_view data) {
    out.push_back(std::string(t) + "|" + std::string(id) + "|" + std::string(data));
  };
  r.for_each_resource_type([&](const auto& row) { add("rt", row.external_id, row.data); });
  r.for_each_resource([&](const auto& row) { add("r", row.external_id, row.data); });
  r.for_each_entitlement([&](const auto& row) { add("e", row.external_id, row.data); });
  r.for_each_grant([&](const auto& row) { add("g", row.external_id, row.data); });
  std::sort(out.begin(), out.end());
  return out;
}

// The test-sized synthetic tenant (profile S): 2,500 users, 1,200 catalog items, 20,000 report rows.
std::shared_ptr<fx::generated_tenant> synthetic_20k() {
  fx::generator_config g;
  g.users = 2500;
  g.catalog_items = 1200;
  g.report_rows = 20000;
  g.seed = 42;
  return std::make_shared<fx::generated_tenant>(g);
}

void check_counts(const summary& s, const fx::expected_counts& e) {
  CHECK(s.users == e.users);
  CHECK(s.courses == e.courses);
  CHECK(s.entitlements == e.entitlements);
  CHECK(s.grants_completed == e.grants_completed);
  CHECK(s.grants_in_progress == e.grants_in_progress);
  CHECK(s.rows_unknown_user == e.rows_unknown_user);
  CHECK(s.rows_unknown_course == e.rows_unknown_course);
  CHECK(s.rows_unmapped() == e.rows_unmapped_status);
  CHECK(s.rows_unmapped_status == e.unmapped_by_status);  // per value, as sent
  CHECK(s.rows_merged == e.rows_merged);
  CHECK(s.report_rows == e.rows_total);
}

void check_file_counts(const fs::path& file, const fx::expected_counts& e) {
  bp::c1z::reader r(file);
  auto st = r.stats();
  CHECK(st.resource_types == 2);
  std::map<std::string, std::uint64_t> per_type(st.resources.begin(), st.resources.end());
  CHECK(per_type["user"] == e.users);
  CHECK(per_type["course"] == e.courses);
  CHECK(st.entitlements == e.entitlements);
  CHECK(st.grants == e.grants());
}

}  // namespace

TEST_CASE("recorded tenant: every mapping rule, read back from the c1z") {
  auto tenant = recorded();
  fx::background_server server(tenant);
  scratch_dir dir;
  auto opts = fast_options(server, dir / "out.c1z");
  auto s = run_sync(opts);
  CHECK(s.ok);
  check_counts(s, fx::compute_expected(*tenant));
  check_file_counts(dir / "out.c1z", fx::compute_expected(*tenant));
  CHECK(s.duplicate_users == 1);

  const auto x = expect_from_json();
  bp::c1z::reader r(dir / "out.c1z");
  CHECK(r.sync().sync_id == s.sync_id);
  CHECK(r.sync().sync_type == "full");

  std::map<std::string, std::string> rt_names;
  r.for_each_resource_type([&](const auto& row) {
    rt_names[std::string(row.external_id)] = row.message.display_name();
    if (row.external_id == "user") {
      REQUIRE(row.message.traits_size() == 1);
      CHECK(row.message.traits(0) == c1::connector::v2::ResourceType::TRAIT_USER);
      REQUIRE(row.message.annotations_size() == 1);
      CHECK(row.message.annotations(0).type_url() ==
            "type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants");
    }
  });
  CHECK(rt_names == std::map<std::string, std::string>{{"course", "course"}, {"user", "User"}});

  std::map<std::string, std::string> users, courses;
  r.for_each_resource([&](const auto& row) {
    const auto& m = row.message;
    CHECK(m.creation_source() == 1);
    CHECK(row.external_id == m.id().resource_type() + ":" + m.id().resource());
    if (m.id().resource_type() == "user") {
      users[m.id().resource()] = m.display_name();
      REQUIRE(m.annotations_size() == 1);
      c1::connector::v2::UserTrait t;
      REQUIRE(m.annotations(0).UnpackTo(&t));
      const auto& id = m.id().resource();
      CHECK(t.status().status() == (x.user_enabled.at(id) ? c1::connector::v2::UserTrait::Status::STATUS_ENABLED
                                                            : c1::connector::v2::UserTrait::Status::STATUS_DISABLED));
      CHECK(t.account_type() == c1::connector::v2::UserTrait::ACCOUNT_TYPE_HUMAN);
      if (x.user_email.at(id).empty()) {
        CHECK(t.emails_size() == 0);
      } else {
        REQUIRE(t.emails_size() == 1);
        CHECK(t.emails(0).address() == x.user_email.at(id));
        CHECK(t.emails(0).is_primary());
      }
      CHECK(t.login() == x.user_login.at(id));
      CHECK(t.profile().fields().at("id").string_value() == id);
      CHECK(t.profile().fields().contains("approval_manager"));
    } else {
      CHECK(m.annotations_size() == 0);
      courses[m.id().resource()] = m.display_name();
    }
  });
  CHECK(users == x.user_names);
  CHECK(courses == x.course_names);

  std::set<std::string> entitlement_ids;
  r.for_each_entitlement([&](const auto& row) {
    entitlement_ids.insert(std::string(row.external_id));
    const auto& e = row.message;
    CHECK(e.resource().display_name() == x.course_names.at(e.resource().id().resource()));
    CHECK(e.purpose() == c1::connector::v2::Entitlement::PURPOSE_VALUE_ASSIGNMENT);
    CHECK(e.display_name() == "Course " + e.resource().display_name() + " " + e.slug());
    REQUIRE(e.grantable_to_size() == 1);
    CHECK(e.grantable_to(0).id() == "user");
  });
  CHECK(entitlement_ids.size() == 2 * x.course_names.size());
  for (const auto& [id, name] : x.course_names) {
    CHECK(entitlement_ids.count("course:" + id + ":completed"));
    CHECK(entitlement_ids.count("course:" + id + ":in_progress"));
  }

  std::set<std::string> grant_ids;
  r.for_each_grant([&](const auto& row) {
    grant_ids.insert(std::string(row.external_id));
    CHECK(entitlement_ids.count(std::string(row.entitlement_id)));  // never a grant on a missing entitlement
    CHECK(users.count(std::string(row.principal_resource_id)));     // never a grant for an unknown user
    const auto& g = row.message;
    CHECK(g.id() == row.external_id);
    CHECK(g.entitlement().id() == row.entitlement_id);
    CHECK(g.principal().id().resource_type() == "user");
    REQUIRE(g.entitlement().resource().annotations_size() == 1);
    CHECK(g.entitlement().resource().annotations(0).type_url() == "type.googleapis.com/c1.connector.v2.ETag");
  });
  CHECK(grant_ids == x.grant_ids);
}

TEST_CASE("limited courses: only those ids, unknown ids are warnings") {
  auto tenant = recorded();
  const auto x = expect_from_json();
  std::vector<std::string> ids;
  for (const auto& [id, name] : x.course_names) {
    if (ids.size() < 3) ids.push_back(id);
  }
  ids.push_back("00000000-0000-4000-8000-00000000dead");
  fx::background_server server(tenant);
  scratch_dir dir;
  auto opts = fast_options(server, dir / "limited.c1z");
  opts.limited_courses = ids;
  auto s = run_sync(opts);
  fx::expected_options eo;
  eo.limited_course_ids = ids;
  auto e = fx::compute_expected(*tenant, eo);
  CHECK(s.courses == 3);
  CHECK(e.courses == 3);
  check_counts(s, e);
  check_file_counts(dir / "limited.c1z", e);
  CHECK(s.limited_not_found == std::vector<std::string>{"00000000-0000-4000-8000-00000000dead"});
  CHECK(server.log().count(fx::endpoint::catalog) == 0);  // the catalog is not paged in limited mode
}

TEST_CASE("synthetic 20k-row tenant: exact expected counts; two syncs write the same records") {
  auto tenant = synthetic_20k();
  const auto e = fx::compute_expected(*tenant);
  fx::background_server server(tenant);
  scratch_dir dir;
  auto opts = fast_options(server, dir / "a.c1z");
  auto s1 = run_sync(opts);
  check_counts(s1, e);
  check_file_counts(dir / "a.c1z", e);
  opts.destination = dir / "b.c1z";
  opts.api.concurrency = 3;  // a different interleaving of pages
  auto s2 = run_sync(opts);
  check_counts(s2, e);
  CHECK(s1.sync_id != s2.sync_id);
  CHECK(dump(dir / "a.c1z") == dump(dir / "b.c1z"));
}

TEST_CASE("report rows that arrive before the courses are listed wait (memory, then disk); counts stay exact") {
  auto tenant = synthetic_20k();
  const auto e = fx::compute_expected(*tenant);
  fx::options fo;
  fo.pending_polls = 0;
  // The catalog's last page is held until the whole report has been sent.
  fo.faults.push_back(*fx::parse_fault("catalog:hold:n=2"));
  fx::background_server server(tenant, fo);
  scratch_dir dir;
  auto opts = fast_options(server, dir / "early.c1z");
  opts.early_rows_in_memory = 1000;  // most of them go to the temporary file
  auto s = run_sync(opts);
  check_counts(s, e);
  check_file_counts(dir / "early.c1z", e);
  CHECK(s.rows_early_spilled > 0);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& x : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);  // the temporary file had no name and is gone
}

TEST_CASE("the users list ends after the report: grants written first, then corrected; same records") {
  auto tenant = synthetic_20k();
  const auto e = fx::compute_expected(*tenant);
  REQUIRE(e.rows_unknown_user > 0);  // some grants are written for users the list never delivers
  scratch_dir dir;
  summary usual;
  {
    fx::background_server server(tenant);
    usual = run_sync(fast_options(server, dir / "usual.c1z"));
  }
  fx::options fo;
  fo.pending_polls = 0;
  fx::background_server server(tenant, fo);
  auto opts = fast_options(server, dir / "held.c1z");
  opts.users_after_report = true;
  auto s = run_sync(opts);
  check_counts(s, e);
  check_file_counts(dir / "held.c1z", e);
  CHECK(s.grants_before_users);
  CHECK(s.grants_corrected_users > 0);
  CHECK(s.rows_unknown_user == usual.rows_unknown_user);
  CHECK(s.rows_merged == usual.rows_merged);
  CHECK(s.grants_upgraded == usual.grants_upgraded);
  CHECK(s.rows_unmapped_status == usual.rows_unmapped_status);
  CHECK(dump(dir / "usual.c1z") == dump(dir / "held.c1z"));

  SUBCASE("the list sends ids in another form: grants written before it are rewritten with that form") {
    fx::options up = fo;
    up.users_upper_case_ids = true;
    fx::background_server upper(tenant, up);
    auto o2 = fast_options(upper, dir / "upper.c1z");
    o2.users_after_report = true;
    auto s2 = run_sync(o2);
    check_counts(s2, e);
    CHECK(s2.grants_before_users);
    CHECK(s2.grants_corrected_users > s.grants_corrected_users);
    bp::c1z::reader r(dir / "upper.c1z");
    std::set<std::string> users;
    r.for_each_resource([&](const auto& row) {
      if (row.message.id().resource_type() == "user") users.insert(row.message.id().resource());
    });
    std::size_t grants = 0;
    r.for_each_grant([&](const auto& row) {
      ++grants;
      CHECK(users.count(std::string(row.principal_resource_id)));  // the form the list sent
      CHECK(row.external_id.ends_with(":user:" + std::string(row.principal_resource_id)));
    });
    CHECK(grants == e.grants());
    // Same grants as the lower-case file, up to the case of the user ids.
    std::set<std::string> held_ids, upper_ids;
    bp::c1z::reader(dir / "held.c1z").for_each_grant([&](const auto& row) { held_ids.insert(std::string(row.external_id)); });
    r.for_each_grant([&](const auto& row) { upper_ids.insert(bp::ascii::lower(row.external_id)); });
    CHECK(held_ids == upper_ids);
  }
}

TEST_CASE("a truncated report download is fetched again; counts stay exact") {
  auto tenant = recorded();
  fx::options fo;
  fo.faults.push_back(*fx::parse_fault("report-download:truncate:n=1:bytes=20000"));
  fx::background_server server(tenant, fo);
  scratch_dir dir;
  auto s = run_sync(fast_options(server, dir / "t.c1z"));
  CHECK(s.report_downloads == 2);
  check_counts(s, fx::compute_expected(*tenant));
}

TEST_CASE("wrong token: authentication failure, nothing written") {
  auto tenant = recorded();
  fx::background_server server(tenant);
  scratch_dir dir;
  auto opts = fast_options(server, dir / "auth.c1z");
  opts.api.token = "not-the-token";
  summary s;
  try {
    run_sync(opts, {}, &s);
    FAIL("expected a sync_error");
  } catch (const sync_error& e) {
    CHECK(e.kind() == failure_kind::auth);
    CHECK(std::string(e.what()).find("401") != std::string::npos);
    CHECK(std::string(e.what()).find("not-the-token") == std::string::npos);
  }
  CHECK_FALSE(s.ok);
  CHECK_FALSE(fs::exists(dir / "auth.c1z"));
  CHECK(fs::is_empty(dir.path()));  // no temporary files either
}

TEST_CASE("a sync cancelled mid-way leaves the previous file untouched") {
  auto tenant = recorded();
  fx::background_server server(tenant);
  scratch_dir dir;
  auto opts = fast_options(server, dir / "keep.c1z");
  run_sync(opts);
  const std::string before = read_bytes(dir / "keep.c1z");
  REQUIRE(before.size() > 5);

  // The report never finishes; stop once the report has been requested.
  fx::options slow;
  slow.pending_polls = 1000000;
  fx::background_server pending(tenant, slow);
  auto opts2 = fast_options(pending, dir / "keep.c1z");
  opts2.api.poll_max = std::chrono::milliseconds(20);
  stop_source stop;
  struct stopper : bp::log::sink {
    stop_source* s;
    void write(std::string_view line) override {
      if (line.find("report requested") != std::string_view::npos) s->request_stop();
    }
  } sink;
  sink.s = &stop;
  bp::log::set_sink(&sink);
  run_control ctl;
  ctl.stop = &stop;
  try {
    run_sync(opts2, ctl);
    FAIL("expected cancellation");
  } catch (const sync_error& e) {
    CHECK(e.kind() == failure_kind::cancelled);
  }
  bp::log::set_sink(nullptr);
  CHECK(read_bytes(dir / "keep.c1z") == before);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& ent : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);  // no temporary files left behind
}

TEST_CASE("narrowed syncs: skip grants, skip entitlements and grants, one resource type") {
  auto tenant = recorded();
  const auto e = fx::compute_expected(*tenant);
  scratch_dir dir;
  auto stats_of = [](const std::filesystem::path& p) { return bp::c1z::reader(p).stats(); };
  auto resources = [](const bp::c1z::reader_stats& st, const std::string& type) -> std::uint64_t {
    for (const auto& [t, n] : st.resources)
      if (t == type) return n;
    return 0;
  };
  SUBCASE("skip_grants: resources and entitlements; the report is never requested") {
    fx::background_server server(tenant);
    auto opts = fast_options(server, dir / "a.c1z");
    opts.skip_grants = true;
    auto s = run_sync(opts);
    CHECK(s.users == e.users);
    CHECK(s.courses == e.courses);
    CHECK(s.entitlements == e.entitlements);
    CHECK(s.grants() == 0);
    CHECK(server.log().count(fx::endpoint::report_request) == 0);
    const auto st = stats_of(dir / "a.c1z");
    CHECK(st.entitlements == e.entitlements);
    CHECK(st.grants == 0);
  }
  SUBCASE("skip_entitlements_and_grants: resources only") {
    fx::background_server server(tenant);
    auto opts = fast_options(server, dir / "b.c1z");
    opts.skip_entitlements_and_grants = true;
    auto s = run_sync(opts);
    CHECK(s.users == e.users);
    CHECK(s.courses == e.courses);
    CHECK(s.entitlements == 0);
    CHECK(server.log().count(fx::endpoint::report_request) == 0);
    const auto st = stats_of(dir / "b.c1z");
    CHECK(resources(st, "user") == e.users);
    CHECK(resources(st, "course") == e.courses);
    CHECK(st.entitlements == 0);
    CHECK(st.grants == 0);
  }
  SUBCASE("resource_types {user}: no catalog, no report") {
    fx::background_server server(tenant);
    auto opts = fast_options(server, dir / "c.c1z");
    opts.resource_types = {"user"};
    auto s = run_sync(opts);
    CHECK(s.users == e.users);
    CHECK(s.courses == 0);
    CHECK(s.resource_types == 1);
    CHECK(server.log().count(fx::endpoint::catalog) == 0);
    CHECK(server.log().count(fx::endpoint::report_request) == 0);
    const auto st = stats_of(dir / "c.c1z");
    CHECK(resources(st, "user") == e.users);
    CHECK(resources(st, "course") == 0);
  }
  SUBCASE("resource_types {course}: courses and entitlements, no users, no grants") {
    fx::background_server server(tenant);
    auto opts = fast_options(server, dir / "d.c1z");
    opts.resource_types = {"course"};
    auto s = run_sync(opts);
    CHECK(s.users == 0);
    CHECK(s.courses == e.courses);
    CHECK(s.entitlements == e.entitlements);
    CHECK(server.log().count(fx::endpoint::users) == 0);
    CHECK(server.log().count(fx::endpoint::report_request) == 0);
    CHECK(stats_of(dir / "d.c1z").grants == 0);
  }
}
