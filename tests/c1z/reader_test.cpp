#include "baton_percipio/c1z/reader.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <zstd.h>

#include <map>
#include <sstream>

#include "c1z/test_util.hpp"

using namespace bp::c1z;
using namespace bp::c1z::test;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::uint64_t> expected_counts() {
  std::istringstream in(read_file(fixture_expected_path()));
  std::map<std::string, std::uint64_t> m;
  std::string kv;
  while (in >> kv) {
    const auto eq = kv.find('=');
    m[kv.substr(0, eq)] = std::stoull(kv.substr(eq + 1));
  }
  return m;
}

std::string error_of(const fs::path& p, reader_options o = {}) {
  try {
    reader r(p, o);
    return "";
  } catch (const error& e) {
    return e.what();
  }
}

// A c1z holding the given SQL, compressed with one-shot libzstd (a different code path than our writer).
void make_c1z(const fs::path& dir, const fs::path& out, const std::string& sql) {
  const auto db_path = dir / "src.db";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  const std::string raw = read_file(db_path);
  std::string z(ZSTD_compressBound(raw.size()), '\0');
  const auto n = ZSTD_compress(z.data(), z.size(), raw.data(), raw.size(), 3);
  REQUIRE(!ZSTD_isError(n));
  write_file(out, std::string("C1ZF\0", 5) + z.substr(0, n));
  fs::remove(db_path);
}

}  // namespace

TEST_CASE("reads the baton-sdk reference fixture with the expected counts") {
  const auto expected = expected_counts();
  reader r(fixture_path());
  CHECK(r.sync().sync_type == "full");
  CHECK(r.sync().sync_id.size() == 27);
  CHECK_FALSE(r.sync().ended_at.empty());
  const auto s = r.stats();
  CHECK(s.resource_types == 2);
  for (const auto& [type, n] : s.resources) CHECK_MESSAGE(n == expected.at(type), type);
  CHECK(s.resources.size() == 2);
  CHECK(s.entitlements == expected.at("entitlements"));
  CHECK(s.grants == expected.at("grants"));

  std::map<std::string, std::uint64_t> listed;
  r.for_each_resource([&](const resource_row& row) { ++listed[std::string(row.resource_type_id)]; });
  CHECK(listed["user"] == expected.at("user"));
  CHECK(listed["course"] == expected.at("course"));
  std::uint64_t ents = 0;
  r.for_each_entitlement([&](const entitlement_row&) { ++ents; });
  CHECK(ents == expected.at("entitlements"));
  std::uint64_t grants = 0;
  std::uint64_t unknown = 0;
  r.for_each_grant([&](const grant_row& row) {
    ++grants;
    CHECK(row.external_id == row.message.id());
    if (row.entitlement_id.size() > 8 && row.entitlement_id.substr(row.entitlement_id.size() - 8) == ":unknown")
      ++unknown;
  });
  CHECK(grants == expected.at("grants"));
  CHECK(unknown > 0);
}

TEST_CASE("missing, empty and garbage files give one-line errors") {
  scratch_dir dir;
  CHECK(error_of(dir / "nope.c1z").find("No such file") != std::string::npos);
  write_file(dir / "empty.c1z", "");
  CHECK(error_of(dir / "empty.c1z") == "c1z: not a c1z file (empty): " + (dir / "empty.c1z").string());
  write_file(dir / "garbage.c1z", "hello, this is not a c1z at all");
  CHECK(error_of(dir / "garbage.c1z") == "c1z: not a c1z file: " + (dir / "garbage.c1z").string());
  write_file(dir / "short.c1z", "C1Z");
  CHECK(error_of(dir / "short.c1z").find("not a c1z file") != std::string::npos);
  write_file(dir / "v3.c1z", std::string("C1Z3\0", 5) + "xxxx");
  CHECK(error_of(dir / "v3.c1z").find("not a c1z file") != std::string::npos);
  write_file(dir / "magic-only.c1z", std::string("C1ZF\0", 5));
  CHECK(error_of(dir / "magic-only.c1z").find("truncated") != std::string::npos);
  write_file(dir / "bad-zstd.c1z", std::string("C1ZF\0", 5) + "garbage garbage garbage");
  CHECK(error_of(dir / "bad-zstd.c1z").find("corrupt zstd data") != std::string::npos);
  CHECK(count_entries(dir.path()) == 6);
}

TEST_CASE("the reader's temporary directory is removed, on success and on error") {
  scratch_dir dir;
  fs::create_directory(dir / "tmp");
  reader_options o;
  o.temp_dir = dir / "tmp";
  {
    reader r(fixture_path(), o);
    CHECK(count_entries(dir / "tmp") == 0);  // unlinked once open
    CHECK(r.stats().grants == 168);
    std::size_t n = 0;
    r.for_each_grant([&](const grant_row&) { ++n; });
    CHECK(n == 168);
  }
  CHECK(count_entries(dir / "tmp") == 0);
  const std::string full = read_file(fixture_path());
  write_file(dir / "cut.c1z", std::string_view(full).substr(0, full.size() / 2));
  CHECK_FALSE(error_of(dir / "cut.c1z", o).empty());
  CHECK(count_entries(dir / "tmp") == 0);
}

TEST_CASE("truncated copies of the fixture give errors, never crashes") {
  scratch_dir dir;
  const std::string full = read_file(fixture_path());
  for (std::size_t cut : {std::size_t{6}, std::size_t{9}, std::size_t{12}, std::size_t{100}, full.size() / 3,
                          full.size() / 2, full.size() - 100, full.size() - 5, full.size() - 1}) {
    write_file(dir / "cut.c1z", std::string_view(full).substr(0, cut));
    const auto msg = error_of(dir / "cut.c1z");
    CHECK_MESSAGE(!msg.empty(), cut);
    CHECK(msg.find('\n') == std::string::npos);
  }
  // Trailing garbage after the frame is rejected too.
  write_file(dir / "tail.c1z", full + "junk");
  CHECK_FALSE(error_of(dir / "tail.c1z").empty());
}

TEST_CASE("decompression is bounded") {
  reader_options o;
  o.max_decoded_bytes = 4096;
  CHECK(error_of(fixture_path(), o).find("exceeds the limit") != std::string::npos);
}

TEST_CASE("files without a finished full sync are rejected") {
  scratch_dir dir;
  const std::string schema =
      "CREATE TABLE v1_sync_runs (id INTEGER PRIMARY KEY, sync_id TEXT NOT NULL, started_at DATETIME NOT NULL, "
      "ended_at DATETIME, sync_token TEXT NOT NULL, sync_type TEXT NOT NULL DEFAULT 'full', "
      "parent_sync_id TEXT NOT NULL DEFAULT '');";
  make_c1z(dir.path(), dir / "unfinished.c1z",
           schema + "INSERT INTO v1_sync_runs (sync_id, started_at, sync_token) VALUES ('a', '2025-01-01 00:00:00', '');");
  CHECK(error_of(dir / "unfinished.c1z") == "c1z: no finished full sync in: " + (dir / "unfinished.c1z").string());
  make_c1z(dir.path(), dir / "partial.c1z",
           schema + "INSERT INTO v1_sync_runs (sync_id, started_at, ended_at, sync_token, sync_type) VALUES "
                    "('a', '2025-01-01 00:00:00', '2025-01-01 00:00:01', '', 'partial');");
  CHECK(error_of(dir / "partial.c1z").find("no finished full sync") != std::string::npos);
  make_c1z(dir.path(), dir / "nosync.c1z", "CREATE TABLE t (x);");
  CHECK(error_of(dir / "nosync.c1z").find("not a baton database") != std::string::npos);
  make_c1z(dir.path(), dir / "empty-db.c1z", "");
  CHECK_FALSE(error_of(dir / "empty-db.c1z").empty());
  // Old files without the migrated columns read as full syncs; the latest ended_at wins.
  make_c1z(dir.path(), dir / "old.c1z",
           "CREATE TABLE v1_sync_runs (id INTEGER PRIMARY KEY, sync_id TEXT NOT NULL, started_at DATETIME NOT NULL, "
           "ended_at DATETIME, sync_token TEXT NOT NULL);"
           "INSERT INTO v1_sync_runs (sync_id, started_at, ended_at, sync_token) VALUES "
           "('old', '2025-01-01 00:00:00', '2025-01-01 00:00:01', ''), "
           "('new', '2025-01-02 00:00:00', '2025-01-02 00:00:01.5', '');"
           "CREATE TABLE v1_resource_types (id INTEGER PRIMARY KEY, external_id TEXT NOT NULL, data BLOB NOT NULL, "
           "sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);"
           "CREATE TABLE v1_resources (id INTEGER PRIMARY KEY, resource_type_id TEXT NOT NULL, external_id TEXT NOT NULL, "
           "parent_resource_type_id TEXT, parent_resource_id TEXT, data BLOB NOT NULL, sync_id TEXT NOT NULL, "
           "discovered_at DATETIME NOT NULL);"
           "CREATE TABLE v1_entitlements (id INTEGER PRIMARY KEY, resource_type_id TEXT NOT NULL, resource_id TEXT NOT NULL, "
           "external_id TEXT NOT NULL, data BLOB NOT NULL, sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);"
           "CREATE TABLE v1_grants (id INTEGER PRIMARY KEY, resource_type_id TEXT NOT NULL, resource_id TEXT NOT NULL, "
           "entitlement_id TEXT NOT NULL, principal_resource_type_id TEXT NOT NULL, principal_resource_id TEXT NOT NULL, "
           "external_id TEXT NOT NULL, data BLOB NOT NULL, sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);");
  reader r(dir / "old.c1z");
  CHECK(r.sync().sync_id == "new");
  CHECK(r.sync().sync_type == "full");
  CHECK(r.stats().grants == 0);
}

TEST_CASE("undecodable blobs are errors") {
  scratch_dir dir;
  make_c1z(dir.path(), dir / "bad-blob.c1z",
           "CREATE TABLE v1_sync_runs (id INTEGER PRIMARY KEY, sync_id TEXT NOT NULL, started_at DATETIME NOT NULL, "
           "ended_at DATETIME, sync_token TEXT NOT NULL, sync_type TEXT NOT NULL DEFAULT 'full', "
           "parent_sync_id TEXT NOT NULL DEFAULT '');"
           "INSERT INTO v1_sync_runs (sync_id, started_at, ended_at, sync_token) VALUES "
           "('s', '2025-01-01 00:00:00', '2025-01-01 00:00:01', '');"
           "CREATE TABLE v1_resource_types (id INTEGER PRIMARY KEY, external_id TEXT NOT NULL, data BLOB NOT NULL, "
           "sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);"
           "INSERT INTO v1_resource_types (external_id, data, sync_id, discovered_at) VALUES "
           "('x', x'ffffffff', 's', '2025-01-01 00:00:00');");
  reader r(dir / "bad-blob.c1z");
  CHECK_THROWS_WITH_AS(r.for_each_resource_type([](const resource_type_row&) {}),
                       doctest::Contains("undecodable resource type in row 1"), error);
}
