#include "baton_percipio/c1z/writer.hpp"

#include <doctest/doctest.h>
#include <grp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <map>
#include <regex>
#include <vector>

#include "baton_percipio/c1z/ksuid.hpp"
#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/c1z/records.hpp"
#include "c1z/percipio_example.hpp"
#include "c1z/test_util.hpp"
#include "hardening/child_process.hpp"

using namespace bp::c1z;
using namespace bp::c1z::test;
namespace fs = std::filesystem;

namespace {

// Decompresses a .c1z with plain libzstd (independent of our reader) into path.
void decompress_to(const fs::path& c1z, const fs::path& db) {
  const std::string file = read_file(c1z);
  REQUIRE(file.size() > 5);
  REQUIRE(file.substr(0, 5) == std::string("C1ZF\0", 5));
  const std::string_view z = std::string_view(file).substr(5);
  std::string out;
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  std::vector<char> buf(1 << 16);
  ZSTD_inBuffer in{z.data(), z.size(), 0};
  std::size_t rc = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(d.get(), &o, &in);
    REQUIRE(!ZSTD_isError(rc));
    out.append(buf.data(), o.pos);
  }
  CHECK(rc == 0);
  write_file(db, out);
}

struct db_handle {
  sqlite3* db = nullptr;
  explicit db_handle(const fs::path& p) { REQUIRE(sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK); }
  ~db_handle() { sqlite3_close(db); }
  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::vector<std::string> r;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const auto* t = sqlite3_column_text(st, i);
        r.emplace_back(t ? reinterpret_cast<const char*>(t) : "<null>");
      }
      out.push_back(std::move(r));
    }
    sqlite3_finalize(st);
    return out;
  }
  std::string one(const std::string& sql) const {
    auto r = rows(sql);
    REQUIRE(r.size() == 1);
    return r[0][0];
  }
};

// Writes the spec 7.6 example (2 types, course + user, 2 entitlements, 1 grant) plus extras.
// Decompresses dir/early.c1z and dir/plain.c1z and checks that both hold the same schema, grants
// and resources, that `index_query` (which forces an index) reads the same, and that early's
// database is intact.
void check_same_database(const fs::path& dir, const char* index_query) {
  decompress_to(dir / "early.c1z", dir / "early.db");
  decompress_to(dir / "plain.c1z", dir / "plain.db");
  const db_handle a(dir / "early.db");
  const db_handle b(dir / "plain.db");
  for (const char* q : {"SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
                        "SELECT external_id, hex(data) FROM v1_grants ORDER BY id",
                        "SELECT external_id, hex(data) FROM v1_resources ORDER BY id", index_query}) {
    CHECK(a.rows(q) == b.rows(q));
  }
  CHECK(a.one("PRAGMA integrity_check") == "ok");
}

void write_example(writer& w) {
  CHECK(w.add_resource_type("user", encode_resource_type(user_type())));
  CHECK(w.add_resource_type("course", encode_resource_type(course_type())));
  CHECK(w.add_resource("course", "c-123", encode_resource(course_c123())));
  CHECK(w.add_resource("user", "u-9", encode_resource(user_u9())));
  auto ent = completed_entitlement();
  CHECK(w.add_entitlement("course", "c-123", "course:c-123:completed", encode_entitlement(course_c123(), ent)));
  ent.slug = "in_progress";
  CHECK(w.add_entitlement("course", "c-123", "course:c-123:in_progress", encode_entitlement(course_c123(), ent)));
  const grant_encoder enc(course_c123(), "completed");
  std::string buf;
  const auto g = enc.encode(buf, "user", "u-9");
  CHECK(w.add_grant("course", "c-123", enc.entitlement_id(), "user", "u-9", g.id, g.bytes));
}

writer_options options_for(const fs::path& dest) {
  writer_options o;
  o.destination = dest;
  o.batch_size = 3;  // exercise several transactions
  return o;
}

}  // namespace

TEST_CASE("schema read back from a written file equals the spec DDL") {
  scratch_dir dir;
  {
    writer w(options_for(dir / "out.c1z"));
    write_example(w);
    w.finish();
  }
  decompress_to(dir / "out.c1z", dir / "out.db");
  db_handle db(dir / "out.db");

  // Creation order is free (the non-unique indexes are built at the end), so compare sorted.
  auto objects = db.rows("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'");
  std::sort(objects.begin(), objects.end());
  std::vector<std::vector<std::string>> expected_objects = {
      {"table", "v1_resource_types", "v1_resource_types"},
      {"index", "idx_resource_types_external_sync_v1", "v1_resource_types"},
      {"table", "v1_resources", "v1_resources"},
      {"index", "idx_resources_resource_type_id_v1", "v1_resources"},
      {"index", "idx_resources_external_sync_v1", "v1_resources"},
      {"index", "idx_resources_parent_resource_id_v1", "v1_resources"},
      {"table", "v1_entitlements", "v1_entitlements"},
      {"index", "idx_entitlements_resource_id_v1", "v1_entitlements"},
      {"index", "idx_entitlements_external_sync_v1", "v1_entitlements"},
      {"table", "v1_grants", "v1_grants"},
      {"index", "idx_grants_resource_type_id_resource_id_v1", "v1_grants"},
      {"index", "idx_grants_principal_id_v1", "v1_grants"},
      {"index", "idx_grants_entitlement_id_principal_id_v1", "v1_grants"},
      {"index", "idx_grants_external_sync_v1", "v1_grants"},
      {"table", "v1_sync_runs", "v1_sync_runs"},
      {"index", "idx_sync_runs_sync_id_v1", "v1_sync_runs"},
      {"table", "v1_assets", "v1_assets"},
      {"index", "idx_assets_external_sync_v1", "v1_assets"},
  };
  std::sort(expected_objects.begin(), expected_objects.end());
  CHECK(objects == expected_objects);

  // name, declared type (lower-cased), notnull, default, pk per spec 2.2 .. 2.7.
  const std::map<std::string, std::vector<std::string>> tables = {
      {"v1_resource_types", {"id integer 0 <null> 1", "external_id text 1 <null> 0", "data blob 1 <null> 0",
                             "sync_id text 1 <null> 0", "discovered_at datetime 1 <null> 0"}},
      {"v1_resources", {"id integer 0 <null> 1", "resource_type_id text 1 <null> 0", "external_id text 1 <null> 0",
                        "parent_resource_type_id text 0 <null> 0", "parent_resource_id text 0 <null> 0",
                        "data blob 1 <null> 0", "sync_id text 1 <null> 0", "discovered_at datetime 1 <null> 0"}},
      {"v1_entitlements", {"id integer 0 <null> 1", "resource_type_id text 1 <null> 0", "resource_id text 1 <null> 0",
                           "external_id text 1 <null> 0", "data blob 1 <null> 0", "sync_id text 1 <null> 0",
                           "discovered_at datetime 1 <null> 0"}},
      {"v1_grants", {"id integer 0 <null> 1", "resource_type_id text 1 <null> 0", "resource_id text 1 <null> 0",
                     "entitlement_id text 1 <null> 0", "principal_resource_type_id text 1 <null> 0",
                     "principal_resource_id text 1 <null> 0", "external_id text 1 <null> 0", "data blob 1 <null> 0",
                     "sync_id text 1 <null> 0", "discovered_at datetime 1 <null> 0"}},
      {"v1_sync_runs", {"id integer 0 <null> 1", "sync_id text 1 <null> 0", "started_at datetime 1 <null> 0",
                        "ended_at datetime 0 <null> 0", "sync_token text 1 <null> 0", "sync_type text 1 'full' 0",
                        "parent_sync_id text 1 '' 0"}},
      {"v1_assets", {"id integer 0 <null> 1", "external_id text 1 <null> 0", "content_type text 1 <null> 0",
                     "data blob 1 <null> 0", "sync_id text 1 <null> 0", "discovered_at datetime 1 <null> 0"}},
  };
  for (const auto& [table, cols] : tables) {
    std::vector<std::string> got;
    for (const auto& r : db.rows("SELECT name, lower(type), \"notnull\", dflt_value, pk FROM pragma_table_info('" +
                                 table + "') ORDER BY cid"))
      got.push_back(r[0] + " " + r[1] + " " + r[2] + " " + r[3] + " " + r[4]);
    CHECK_MESSAGE(got == cols, table);
  }

  // index name -> unique + columns in order
  const std::map<std::string, std::string> indexes = {
      {"idx_resource_types_external_sync_v1", "1 external_id,sync_id"},
      {"idx_resources_resource_type_id_v1", "0 resource_type_id"},
      {"idx_resources_external_sync_v1", "0 parent_resource_type_id,parent_resource_id"},
      {"idx_resources_parent_resource_id_v1", "1 external_id,sync_id"},
      {"idx_entitlements_resource_id_v1", "0 resource_type_id,resource_id"},
      {"idx_entitlements_external_sync_v1", "1 external_id,sync_id"},
      {"idx_grants_resource_type_id_resource_id_v1", "0 resource_type_id,resource_id"},
      {"idx_grants_principal_id_v1", "0 principal_resource_type_id,principal_resource_id"},
      {"idx_grants_entitlement_id_principal_id_v1", "0 entitlement_id,principal_resource_type_id,principal_resource_id"},
      {"idx_grants_external_sync_v1", "1 external_id,sync_id"},
      {"idx_sync_runs_sync_id_v1", "1 sync_id"},
      {"idx_assets_external_sync_v1", "1 external_id,sync_id"},
  };
  std::map<std::string, std::string> got_indexes;
  for (const auto& t : tables) {
    for (const auto& r : db.rows("SELECT name, \"unique\", origin FROM pragma_index_list('" + t.first + "')")) {
      std::string cols;
      for (const auto& c : db.rows("SELECT name FROM pragma_index_info('" + r[0] + "') ORDER BY seqno"))
        cols += (cols.empty() ? "" : ",") + c[0];
      got_indexes[r[0]] = r[1] + " " + cols;
    }
  }
  CHECK(got_indexes == indexes);

  CHECK(db.one("PRAGMA integrity_check") == "ok");
  CHECK(db.one("PRAGMA journal_mode") == "delete");
  CHECK(db.one("PRAGMA page_size") == "4096");
  const std::string raw = read_file(dir / "out.db");
  CHECK(raw[18] == 1);  // rollback-journal file format
  CHECK(raw[19] == 1);
}

TEST_CASE("rows, sync run and container follow the spec") {
  scratch_dir dir;
  auto t0 = std::chrono::sys_days{std::chrono::year{2025} / 6 / 17} + std::chrono::hours(19) +
            std::chrono::minutes(1) + std::chrono::seconds(42);
  int ticks = 0;
  auto opt = options_for(dir / "out.c1z");
  opt.clock = [&] { return t0 + std::chrono::milliseconds(500) * (ticks++); };
  std::string sync_id;
  {
    writer w(opt);
    sync_id = w.sync_id();
    write_example(w);
    // Duplicates are ignored and the first copy wins.
    CHECK_FALSE(w.add_resource("course", "c-123", encode_resource({"course", "c-123", "Other", "", std::nullopt})));
    CHECK_FALSE(w.add_grant("course", "c-123", "course:c-123:completed", "user", "u-9",
                            "course:c-123:completed:user:u-9", "x"));
    CHECK(w.counts().resources == 2);
    CHECK(w.counts().grants == 1);
    const auto res = w.finish();
    CHECK(res.file_bytes == fs::file_size(dir / "out.c1z"));
  }
  CHECK((fs::status(dir / "out.c1z").permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(count_entries(dir.path()) == 1);  // no temp files or working directory left

  const std::string file = read_file(dir / "out.c1z");
  CHECK(to_hex(file.substr(0, 9)) == "43315a460028b52ffd");
  CHECK((static_cast<unsigned char>(file[9]) & 0x04) == 0x04);  // content checksum flag

  decompress_to(dir / "out.c1z", dir / "out.db");
  db_handle db(dir / "out.db");
  const auto run = db.rows("SELECT sync_id, started_at, ended_at, sync_token, sync_type, parent_sync_id, "
                           "typeof(started_at), typeof(ended_at) FROM v1_sync_runs");
  REQUIRE(run.size() == 1);
  CHECK(run[0][0] == sync_id);
  CHECK(run[0][1] == "2025-06-17 19:01:42");
  CHECK(run[0][2] > run[0][1]);
  CHECK(run[0][3] ==
        R"({"actions":[],"current_action":null,"needs_expansion":false,"entitlement_graph":null,"has_external_resource_grants":false,"should_fetch_related_resources":false})");
  CHECK(run[0][4] == "full");
  CHECK(run[0][5] == "");
  CHECK(run[0][6] == "text");
  CHECK(run[0][7] == "text");
  CHECK(db.rows("SELECT resource_type_id, external_id, parent_resource_type_id, parent_resource_id, typeof(data), "
                "sync_id = '" + sync_id + "', typeof(discovered_at) FROM v1_resources ORDER BY id") ==
        std::vector<std::vector<std::string>>{{"course", "course:c-123", "<null>", "<null>", "blob", "1", "text"},
                                              {"user", "user:u-9", "<null>", "<null>", "blob", "1", "text"}});
  CHECK(db.one("SELECT hex(data) FROM v1_resources WHERE external_id = 'course:c-123'") ==
        "0A0F0A06636F757273651205632D3132331A0C496E74726F20746F20432B2B4001");
  CHECK(db.rows("SELECT resource_type_id, resource_id, entitlement_id, principal_resource_type_id, "
                "principal_resource_id, external_id FROM v1_grants") ==
        std::vector<std::vector<std::string>>{
            {"course", "c-123", "course:c-123:completed", "user", "u-9", "course:c-123:completed:user:u-9"}});
  CHECK(db.one("SELECT count(*) FROM v1_assets") == "0");
}

TEST_CASE("round trip writer -> reader") {
  scratch_dir dir;
  std::string sync_id;
  {
    writer w(options_for(dir / "rt.c1z"));
    sync_id = w.sync_id();
    write_example(w);
    for (int i = 0; i < 50; ++i) {
      const resource_record c{"course", "c-" + std::to_string(i), "Course " + std::to_string(i), "", std::nullopt};
      w.add_resource("course", c.id, encode_resource(c));
      const grant_encoder enc(c, "unknown");  // undeclared entitlement: still stored and listed
      std::string buf;
      const auto g = enc.encode(buf, "user", "u-9");
      w.add_grant(c.type, c.id, enc.entitlement_id(), "user", "u-9", g.id, g.bytes);
    }
    w.finish();
  }
  reader r(dir / "rt.c1z");
  CHECK(r.sync().sync_id == sync_id);
  CHECK(r.sync().sync_type == "full");
  const auto s = r.stats();
  CHECK(s.resource_types == 2);
  REQUIRE(s.resources.size() == 2);
  CHECK(s.resources[0] == std::pair<std::string, std::uint64_t>{"user", 1});
  CHECK(s.resources[1] == std::pair<std::string, std::uint64_t>{"course", 51});
  CHECK(s.entitlements == 2);
  CHECK(s.grants == 51);

  std::vector<std::string> types;
  r.for_each_resource_type([&](const resource_type_row& row) { types.push_back(row.message.display_name()); });
  CHECK(types == std::vector<std::string>{"User", "course"});
  int users = 0;
  r.for_each_resource([&](const resource_row& row) {
    CHECK(row.external_id == row.message.id().resource_type() + ":" + row.message.id().resource());
    CHECK(row.message.creation_source() == 1);
    users += row.message.annotations_size();
  });
  CHECK(users == 1);
  std::int64_t last = 0;
  int grants = 0;
  r.for_each_grant([&](const grant_row& row) {
    CHECK(row.row_id > last);
    last = row.row_id;
    CHECK(row.external_id == row.message.id());
    CHECK(row.entitlement_id == row.message.entitlement().id());
    CHECK(row.principal_resource_id == row.message.principal().id().resource());
    ++grants;
  });
  CHECK(grants == 51);
  int ents = 0;
  r.for_each_entitlement([&](const entitlement_row& row) {
    CHECK(row.message.resource().display_name() == "Intro to C++");
    ++ents;
  });
  CHECK(ents == 2);
}

TEST_CASE("abort and destruction without finish leave the destination byte-identical") {
  scratch_dir dir;
  const auto dest = dir / "keep.c1z";
  write_file(dest, "previous contents");
  {
    writer w(options_for(dest));
    write_example(w);
    CHECK(count_entries(dir.path()) == 2);  // destination + working directory
  }
  CHECK(read_file(dest) == "previous contents");
  CHECK(count_entries(dir.path()) == 1);
  {
    writer w(options_for(dest));
    write_example(w);
    w.abort();
    w.abort();
    CHECK_THROWS_AS(w.add_resource_type("x", "y"), error);
    CHECK_THROWS_AS(w.finish(), error);
  }
  CHECK(read_file(dest) == "previous contents");
  CHECK(count_entries(dir.path()) == 1);
}

TEST_CASE("a failure during finish leaves the destination intact and no temp files") {
  scratch_dir dir;
  const auto dest = dir / "busy";
  fs::create_directory(dest);  // rename of a file over a non-empty directory fails
  write_file(dest / "inside", "x");
  writer w(options_for(dest));
  write_example(w);
  try {
    w.finish();
    FAIL("finish should fail");
  } catch (const error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("rename") != std::string::npos);
    CHECK(msg.find(dest.string()) != std::string::npos);
  }
  CHECK(count_entries(dir.path()) == 1);
  CHECK(read_file(dest / "inside") == "x");
}

TEST_CASE("unwritable destinations give a clear error") {
  scratch_dir dir;
  write_file(dir / "plain", "file");
  try {
    writer w(options_for(dir / "plain" / "out.c1z"));
    FAIL("constructor should fail");
  } catch (const error& e) {
    const std::string msg = e.what();
    CHECK(msg.find((dir / "plain").string()) != std::string::npos);
    CHECK(msg.find("Not a directory") != std::string::npos);
  }
  // A read-only destination directory. Root ignores directory permissions: the writer then runs as
  // nobody in a child, in directories nobody owns. Exit codes name the check that failed.
  fs::create_directory(dir / "ro");
  fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  const bool as_root = ::geteuid() == 0;
  if (as_root) {
    REQUIRE(::chown(dir.path().c_str(), 65534, 65534) == 0);
    REQUIRE(::chown((dir / "ro").c_str(), 65534, 65534) == 0);
  }
  const auto st = bp::hardening::run_in_child([&] {
    if (as_root && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) return 20;
    if (::geteuid() == 0) return 21;  // still privileged: the scenario would prove nothing
    auto opt = options_for(dir / "ro" / "out.c1z");
    opt.temp_dir = dir.path();
    writer w(opt);
    write_example(w);
    try {
      w.finish();
      return 22;
    } catch (const error& e) {
      if (std::string(e.what()).find("Permission denied") == std::string::npos) return 23;
    }
    return 0;
  });
  CHECK(st.exited);
  CHECK(st.exit_code == 0);
  CHECK(count_entries(dir / "ro") == 0);
  CHECK(count_entries(dir.path()) == 2);  // plain + ro, the working directory is gone
}

TEST_CASE("KSUID and timestamp formats") {
  const auto t = std::chrono::sys_seconds{std::chrono::seconds{1'400'000'000}};
  std::array<std::uint8_t, 16> zero{};
  CHECK(make_ksuid(t, zero) == std::string(27, '0'));
  std::array<std::uint8_t, 16> ff;
  ff.fill(0xff);
  CHECK(make_ksuid(t + std::chrono::seconds(0xffffffffLL), ff) == "aWgEPTl1tmebfsQzFP4bxwgy80V");  // max KSUID
  const auto k = make_ksuid(std::chrono::system_clock::now());
  CHECK(std::regex_match(k, std::regex("[0-9A-Za-z]{27}")));
  CHECK(make_ksuid(std::chrono::system_clock::now()) != k);
  // Text order follows creation seconds.
  CHECK(make_ksuid(t + std::chrono::seconds(100), ff) < make_ksuid(t + std::chrono::seconds(101), zero));

  using namespace std::chrono;
  const auto base = sys_days{year{2025} / 6 / 17} + hours(19) + minutes(1) + seconds(42);
  CHECK(format_timestamp(base) == "2025-06-17 19:01:42");
  CHECK(format_timestamp(base + milliseconds(500)) == "2025-06-17 19:01:42.5");
  CHECK(format_timestamp(base + nanoseconds(123456789)) == "2025-06-17 19:01:42.123456789");
  CHECK(format_timestamp(base + microseconds(1200)) == "2025-06-17 19:01:42.0012");
  CHECK(format_timestamp(sys_days{year{1999} / 12 / 31} + hours(23) + minutes(59) + seconds(59)) ==
        "1999-12-31 23:59:59");
}

TEST_CASE("remove_grants_of deletes those principals' grants of this sync, and only those") {
  scratch_dir dir;
  const resource_record c{"course", "c-1", "One", "", std::nullopt};
  std::string buf;
  for (bool unique : {false, true}) {
    for (bool indexed : {false, true}) {
      CAPTURE(unique);
      CAPTURE(indexed);
      auto o = options_for(dir / "rm.c1z");
      o.ids_unique = unique;
      {
        writer w(o);
        w.add_resource("course", c.id, encode_resource(c));
        for (const char* slug : {"in_progress", "completed"}) {
          const grant_encoder enc(c, slug);
          for (const char* user : {"u-1", "u-2", "u-10"}) {
            const auto g = enc.encode(buf, "user", user);
            CHECK(w.add_grant(c.type, c.id, enc.entitlement_id(), "user", user, g.id, g.bytes));
          }
        }
        if (indexed) w.index_grants();
        const std::vector<std::string_view> gone{"u-1", "nobody"};
        CHECK(w.remove_grants_of("user", gone) == 2);
        CHECK(w.remove_grants_of("user", gone) == 0);
        const std::vector<std::string_view> u2{"u-2"};
        CHECK(w.remove_grants_of("course", u2) == 0);  // the type is part of the key
        CHECK(w.remove_grants_of("user", {}) == 0);
        const std::vector<std::string_view> twice{"u-10", "u-10"};
        CHECK(w.remove_grants_of("user", twice) == 2);  // each grant once
        CHECK(w.counts().grants == 2);
        // Added again after the removal (the principal's id text was corrected): indexed as usual.
        const grant_encoder enc(c, "completed");
        const auto g = enc.encode(buf, "user", "U-1");
        CHECK(w.add_grant(c.type, c.id, enc.entitlement_id(), "user", "U-1", g.id, g.bytes));
        w.finish();
      }
      reader r(dir / "rm.c1z");
      std::vector<std::string> ids;
      r.for_each_grant([&](const grant_row& row) { ids.emplace_back(row.external_id); });
      std::sort(ids.begin(), ids.end());
      CHECK(ids == std::vector<std::string>{"course:c-1:completed:user:U-1", "course:c-1:completed:user:u-2",
                                            "course:c-1:in_progress:user:u-2"});
      decompress_to(dir / "rm.c1z", dir / "rm.db");
      const db_handle d(dir / "rm.db");
      CHECK(d.one("PRAGMA integrity_check") == "ok");
      CHECK(d.one("SELECT count(*) FROM v1_grants INDEXED BY idx_grants_principal_id_v1 "
                  "WHERE principal_resource_type_id = 'user'") == "3");
      fs::remove(dir / "rm.db");
    }
  }
}

TEST_CASE("index_grants: grants indexed before the end of the sync, same schema and rows") {
  scratch_dir dir;
  const resource_record c{"course", "c-1", "One", "", std::nullopt};
  std::string buf;
  for (bool early : {false, true}) {
    auto o = options_for(dir / (early ? "early.c1z" : "plain.c1z"));
    o.batch_size = 300;
    o.ids_unique = true;
    writer w(o);
    w.add_resource("course", c.id, encode_resource(c));
    for (int i = 0; i < 1500; ++i) {
      const std::string user = "u-" + std::to_string(i);
      const grant_encoder enc(c, i % 2 ? "completed" : "in_progress");
      const auto g = enc.encode(buf, "user", user);
      w.add_grant(c.type, c.id, enc.entitlement_id(), "user", user, g.id, g.bytes);
    }
    if (early) w.index_grants();
    for (int i = 0; i < 1000; ++i) {  // users listed after the grants, as in a paced sync
      const std::string user = "u-" + std::to_string(i);
      w.add_resource("user", user, encode_resource(resource_record{"user", user, "U", "", std::nullopt}));
    }
    w.finish();
  }
  check_same_database(dir.path(), "SELECT count(*) FROM v1_grants INDEXED BY idx_grants_entitlement_id_principal_id_v1 "
                                  "WHERE entitlement_id > ''");
  const db_handle a(dir / "early.db");
  CHECK(a.one("SELECT \"unique\" FROM pragma_index_list('v1_grants') WHERE name = 'idx_grants_external_sync_v1'") ==
        "1");
}

TEST_CASE("ids_unique: the unique indexes are built at finish, with the spec's schema") {
  scratch_dir dir;
  const resource_record c{"course", "c-1", "One", "", std::nullopt};
  std::string buf;
  auto add = [&](writer& w, const char* slug, const char* user) {
    const grant_encoder enc(c, slug);
    const auto g = enc.encode(buf, "user", user);
    return w.add_grant(c.type, c.id, enc.entitlement_id(), "user", user, g.id, g.bytes);
  };
  SUBCASE("rows and schema") {
    auto o = options_for(dir / "u.c1z");
    o.ids_unique = true;
    {
      writer w(o);
      w.add_resource("course", c.id, encode_resource(c));
      for (const char* user : {"u-1", "u-2", "u-3"}) CHECK(add(w, "in_progress", user));
      CHECK(add(w, "completed", "u-1"));
      CHECK(w.counts().grants == 4);
      w.finish();
    }
    reader r(dir / "u.c1z");
    std::vector<std::string> ids;
    r.for_each_grant([&](const grant_row& row) { ids.emplace_back(row.external_id); });
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<std::string>{"course:c-1:completed:user:u-1", "course:c-1:in_progress:user:u-1",
                                          "course:c-1:in_progress:user:u-2", "course:c-1:in_progress:user:u-3"});
    // The final schema is the same as without the option (the spec's, compared above).
    {
      writer w(options_for(dir / "plain.c1z"));
      w.finish();
    }
    decompress_to(dir / "u.c1z", dir / "u.db");
    decompress_to(dir / "plain.c1z", dir / "plain.db");
    const std::string q = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name";
    CHECK(db_handle(dir / "u.db").rows(q) == db_handle(dir / "plain.db").rows(q));
    CHECK(db_handle(dir / "u.db").one("SELECT \"unique\" FROM pragma_index_list('v1_grants') WHERE "
                                      "name = 'idx_grants_external_sync_v1'") == "1");
  }
  SUBCASE("a duplicate that slipped through fails finish and leaves the destination as it was") {
    write_file(dir / "d.c1z", "previous");
    auto o = options_for(dir / "d.c1z");
    o.ids_unique = true;
    for (const char* table : {"grants", "resources"}) {
      CAPTURE(table);
      writer w(o);
      if (std::string_view(table) == "grants") {
        CHECK(add(w, "completed", "u-1"));
        CHECK(add(w, "completed", "u-1"));
      } else {
        CHECK(w.add_resource("course", c.id, encode_resource(c)));
        CHECK(w.add_resource("course", c.id, encode_resource(c)));
      }
      CHECK_THROWS_AS(w.finish(), error);
      CHECK(read_file(dir / "d.c1z") == "previous");
      CHECK(count_entries(dir.path()) == 1);
    }
  }
}

TEST_CASE("finish compresses the tables during the index builds, and the file reads the same") {
  scratch_dir dir;
  const resource_record c{"course", "c-1", "One", "", std::nullopt};
  std::string buf;
  auto fill = [&](writer& w) {
    for (int i = 0; i < 3000; ++i) {
      const std::string user = "u-" + std::to_string(i);
      const resource_record u{"user", user, "User " + user, "", std::nullopt};
      w.add_resource("user", user, encode_resource(u));
      const grant_encoder enc(c, i % 3 == 0 ? "completed" : "in_progress");
      const auto g = enc.encode(buf, "user", user);
      w.add_grant(c.type, c.id, enc.entitlement_id(), "user", user, g.id, g.bytes);
    }
  };
  for (std::uint32_t page : {4096u, 65536u}) {
    CAPTURE(page);
    finish_result results[2];
    for (bool overlap : {false, true}) {
      auto o = options_for(dir / (overlap ? "overlap.c1z" : "plain.c1z"));
      o.batch_size = 500;
      o.page_size = page;
      o.ids_unique = true;
      o.overlap_compression = overlap;
      writer w(o);
      fill(w);
      results[overlap] = w.finish();
    }
    CHECK_FALSE(results[0].compressed_during_indexes);
    CHECK(results[1].compressed_during_indexes);
    CHECK(results[1].database_bytes == results[0].database_bytes);
    CHECK(results[1].file_bytes == fs::file_size(dir / "overlap.c1z"));
    CHECK(static_cast<unsigned char>(read_file(dir / "overlap.c1z")[9]) == 0x04);  // checksum flag, as Go
    decompress_to(dir / "overlap.c1z", dir / "overlap.db");  // libzstd checks the content checksum
    decompress_to(dir / "plain.c1z", dir / "plain.db");
    const db_handle a(dir / "overlap.db");
    const db_handle b(dir / "plain.db");
    for (const char* q : {"SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
                          "SELECT external_id, hex(data) FROM v1_grants ORDER BY id",
                          "SELECT external_id, hex(data) FROM v1_resources ORDER BY id",
                          "SELECT count(*) FROM v1_grants INDEXED BY idx_grants_principal_id_v1 "
                          "WHERE principal_resource_type_id = 'user'"}) {
      CHECK(a.rows(q) == b.rows(q));
    }
    CHECK(a.one("PRAGMA integrity_check") == "ok");
    CHECK(a.one("SELECT count(*) FROM v1_grants") == "3000");
    reader r(dir / "overlap.c1z");
    std::size_t grants = 0;
    r.for_each_grant([&](const grant_row&) { ++grants; });
    CHECK(grants == 3000);
  }
}

TEST_CASE("index_objects: resources and entitlements indexed before the grants, same file") {
  scratch_dir dir;
  const resource_record c{"course", "c-1", "One", "", std::nullopt};
  std::string buf;
  for (std::uint32_t page : {4096u, 65536u}) {
    CAPTURE(page);
    for (bool early : {false, true}) {
      auto o = options_for(dir / (early ? "early.c1z" : "plain.c1z"));
      o.batch_size = 500;
      o.page_size = page;
      o.ids_unique = true;
      writer w(o);
      w.add_resource("course", c.id, encode_resource(c));
      w.add_entitlement("course", c.id, "course:c-1:completed", "ent");
      for (int i = 0; i < 2000; ++i) {
        const std::string user = "u-" + std::to_string(i);
        w.add_resource("user", user, encode_resource(resource_record{"user", user, "U", "", std::nullopt}));
      }
      if (early) w.index_objects();
      for (int i = 0; i < 2000; ++i) {
        const std::string user = "u-" + std::to_string(i);
        const grant_encoder enc(c, "completed");
        const auto g = enc.encode(buf, "user", user);
        w.add_grant(c.type, c.id, enc.entitlement_id(), "user", user, g.id, g.bytes);
      }
      w.finish();
    }
    check_same_database(dir.path(), "SELECT count(*) FROM v1_resources INDEXED BY idx_resources_parent_resource_id_v1 "
                                    "WHERE external_id > ''");
    CHECK(db_handle(dir / "early.db").one("SELECT count(*) FROM v1_resources") == "2001");
    reader rd(dir / "early.c1z");
    std::size_t grants = 0;
    rd.for_each_grant([&](const grant_row&) { ++grants; });
    CHECK(grants == 2000);
  }
}

// writer_options::bulk_indexes (the default) against SQLite's CREATE INDEX: the same file, every
// index read back entry by entry, whether the indexes are built at finish() or early (index_objects,
// index_grants, then more rows and removals that SQLite applies to the bulk-built b-trees).
TEST_CASE("bulk-built indexes hold what CREATE INDEX builds") {
  scratch_dir dir;
  std::string buf;
  const std::vector<std::pair<std::string, std::string>> indexes = {
      {"idx_resources_resource_type_id_v1", "resource_type_id"},
      {"idx_resources_external_sync_v1", "parent_resource_type_id, parent_resource_id"},
      {"idx_resources_parent_resource_id_v1", "external_id, sync_id"},
      {"idx_entitlements_resource_id_v1", "resource_type_id, resource_id"},
      {"idx_entitlements_external_sync_v1", "external_id, sync_id"},
      {"idx_grants_external_sync_v1", "external_id, sync_id"},
      {"idx_grants_resource_type_id_resource_id_v1", "resource_type_id, resource_id"},
      {"idx_grants_principal_id_v1", "principal_resource_type_id, principal_resource_id"},
      {"idx_grants_entitlement_id_principal_id_v1", "entitlement_id, principal_resource_type_id, principal_resource_id"},
  };
  for (const std::uint32_t page : {4096u, 65536u}) {
    for (const bool early : {false, true}) {
      CAPTURE(page);
      CAPTURE(early);
      for (const bool bulk : {false, true}) {
        auto o = options_for(dir / (bulk ? "early.c1z" : "plain.c1z"));
        o.batch_size = 700;
        o.page_size = page;
        o.ids_unique = true;
        o.bulk_indexes = bulk;
        o.index_sort_mib = 0;  // the smallest budget: the sorter writes runs
        // Fixed timestamps: both files must match row for row.
        o.clock = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)); };
        writer w(o);
        std::vector<resource_record> courses;
        for (int c = 0; c < 40; ++c) {
          courses.push_back({"course", "c-" + std::to_string(c * 37 % 40), "Course", "", std::nullopt});
          w.add_resource("course", courses.back().id, encode_resource(courses.back()));
          w.add_entitlement("course", courses.back().id, "course:" + courses.back().id + ":completed", "e");
        }
        for (int i = 0; i < 3000; ++i) {  // users in no order of their ids
          const std::string user = "u-" + std::to_string(i * 7919 % 3000);
          w.add_resource("user", user, encode_resource(resource_record{"user", user, "U", "", std::nullopt}));
        }
        if (early) w.index_objects();
        w.add_resource("user", "u-late", encode_resource(resource_record{"user", "u-late", "U", "", std::nullopt}));
        for (int i = 0; i < 6000; ++i) {
          const auto& c = courses[static_cast<std::size_t>(i % 40)];
          const std::string user = "u-" + std::to_string((i / 40) * 1637 % 3000);  // each (course, user) once
          const grant_encoder enc(c, i % 3 ? "completed" : "in_progress");
          const auto g = enc.encode(buf, "user", user);
          w.add_grant(c.type, c.id, enc.entitlement_id(), "user", user, g.id, g.bytes);
        }
        if (early) w.index_grants();
        const std::vector<std::string_view> gone = {"u-0", "u-1637", "u-274", "u-nobody"};
        CHECK(w.remove_grants_of("user", gone) > 0);
        w.finish();
      }
      decompress_to(dir / "early.c1z", dir / "early.db");
      decompress_to(dir / "plain.c1z", dir / "plain.db");
      const db_handle a(dir / "early.db");
      const db_handle b(dir / "plain.db");
      CHECK(a.one("PRAGMA integrity_check") == "ok");
      const std::string schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name";
      CHECK(a.rows(schema) == b.rows(schema));
      for (const auto& [name, cols] : indexes) {
        CAPTURE(name);
        const std::string table = name.find("grants") != std::string::npos      ? "v1_grants"
                                  : name.find("entitlements") != std::string::npos ? "v1_entitlements"
                                                                                   : "v1_resources";
        // The sync ids differ (KSUIDs): constant within a file, so only the selected values leave them out.
        std::string shown = cols;
        if (const auto at = shown.find("sync_id"); at != std::string::npos) shown.replace(at, 7, "length(sync_id)");
        const std::string q = "SELECT " + shown + ", id FROM " + table + " INDEXED BY " + name + " ORDER BY " + cols + ", id";
        const auto rows = a.rows(q);
        CHECK(rows.size() > 1);
        CHECK(rows == b.rows(q));
      }
    }
  }
}
