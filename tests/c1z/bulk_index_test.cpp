// The bulk index builder (bulk_index, index_btree, key_sorter, index_key) against SQLite itself:
// each case makes one database, copies it, builds the indexes of one copy with
// bulk_build_indexes + register_built_indexes and those of the other with CREATE INDEX, then
// requires integrity_check "ok" of the bulk copy, the same sqlite_schema rows and, index by index,
// the same entries in the same order (read through the index only). The bulk copy must then stay a
// normal database: the same inserts, updates and deletes on both copies keep them equal.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "baton_percipio/c1z/error.hpp"
#include "bulk_index.hpp"
#include "index_btree.hpp"
#include "index_key.hpp"
#include "key_sorter.hpp"
#include "schema.hpp"
#include "test_util.hpp"

using namespace bp::c1z;
using namespace bp::c1z::detail;
using namespace bp::c1z::test;
namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------
// SQLite helpers

struct db_closer {
  sqlite3* db = nullptr;
  ~db_closer() {
    if (db != nullptr) sqlite3_close_v2(db);
  }
  void close() {
    REQUIRE(sqlite3_close(db) == SQLITE_OK);
    db = nullptr;
  }
};

sqlite3* open_db(const fs::path& p) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    FAIL("open " << p << ": " << msg);
  }
  sqlite3_exec(db, "PRAGMA cache_size=-65536", nullptr, nullptr, nullptr);
  return db;
}

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  INFO(sql);
  REQUIRE_MESSAGE(rc == SQLITE_OK, msg);
}

// One cell as type letter + bytes, so NULL, '' and blobs stay apart and NUL bytes survive.
std::string cell_text(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
      return "N";
    case SQLITE_INTEGER:
      return "I" + std::to_string(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
      return "F" + std::to_string(sqlite3_column_double(st, i));
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(st, i));
      return "B" + std::string(p == nullptr ? "" : p, static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
    }
    default: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      return "T" + std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, i)));
    }
  }
}

// Every row of a query, each row its cells joined with a separator that cell_text never starts with.
std::vector<std::string> query_rows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  INFO(sql);
  REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, std::string(sqlite3_errmsg(db)));
  std::vector<std::string> rows;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const std::string c = cell_text(st, i);
      row.append(std::to_string(c.size())).push_back(':');
      row.append(c);
    }
    rows.push_back(std::move(row));
  }
  const std::string msg = sqlite3_errmsg(db);
  sqlite3_finalize(st);
  REQUIRE_MESSAGE(rc == SQLITE_DONE, msg);
  return rows;
}

std::int64_t query_int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  INFO(sql);
  REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, std::string(sqlite3_errmsg(db)));
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const std::int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

// "ok", or what is wrong (a failing check says why).
std::string integrity(const fs::path& p) {
  db_closer c{open_db(p)};
  std::string out;
  char* err = nullptr;
  const int rc = sqlite3_exec(
      c.db, "PRAGMA integrity_check(20)",
      [](void* o, int, char** v, char**) {
        auto& s = *static_cast<std::string*>(o);
        s.append(s.empty() ? "" : "\n").append(v[0] != nullptr ? v[0] : "NULL");
        return 0;
      },
      &out, &err);
  if (rc != SQLITE_OK) out.append(out.empty() ? "" : "\n").append("integrity_check failed: ").append(err != nullptr ? err : "");
  sqlite3_free(err);
  c.close();
  return out;
}

std::string shorten(const std::string& s) { return s.size() <= 300 ? to_hex(s) : to_hex(s.substr(0, 300)) + "..."; }

// The first difference of two row lists, or "" when equal.
std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return "row " + std::to_string(i) + ": bulk " + shorten(a[i]) + " vs sqlite " + shorten(b[i]);
  }
  if (a.size() != b.size()) {
    return "row counts differ: bulk " + std::to_string(a.size()) + " vs sqlite " + std::to_string(b.size());
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Table contents

struct val {
  enum kind_t { null_v, text_v, blob_v, int_v } kind = text_v;
  std::string s;
  std::int64_t i = 0;
};
val T(std::string s) { return {val::text_v, std::move(s), 0}; }
val N() { return {val::null_v, {}, 0}; }
val B(std::string s) { return {val::blob_v, std::move(s), 0}; }
val I(std::int64_t i) { return {val::int_v, {}, i}; }

struct row {
  std::optional<std::int64_t> id;  // the rowid, else SQLite's next one
  std::vector<val> vals;           // in table_data::cols order
};

struct table_data {
  std::string table;
  std::vector<std::string> cols;  // the columns rows give; the table's other NOT NULL ones get 'x'
  std::vector<row> rows;
};

void bind(sqlite3_stmt* st, int i, const val& v) {
  int rc = SQLITE_OK;
  switch (v.kind) {
    case val::null_v: rc = sqlite3_bind_null(st, i); break;
    case val::text_v: rc = sqlite3_bind_text(st, i, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    case val::blob_v: rc = sqlite3_bind_blob(st, i, v.s.data(), static_cast<int>(v.s.size()), SQLITE_TRANSIENT); break;
    case val::int_v: rc = sqlite3_bind_int64(st, i, v.i); break;
  }
  REQUIRE(rc == SQLITE_OK);
}

void insert_rows(sqlite3* db, const table_data& t) {
  std::vector<std::string> others;  // NOT NULL columns the rows do not give
  for (const auto& r : query_rows(db, "SELECT name FROM pragma_table_info('" + t.table + "') WHERE \"notnull\" AND NOT pk")) {
    const std::string name = r.substr(r.find(':') + 2);
    if (std::find(t.cols.begin(), t.cols.end(), name) == t.cols.end()) others.push_back(name);
  }
  std::string sql = "INSERT INTO " + t.table + " (id";
  std::string params = "?1";
  int n = 1;
  for (const auto& c : t.cols) sql += ", " + c, params += ", ?" + std::to_string(++n);
  for (const auto& c : others) sql += ", " + c, params += ", 'x'";
  sql += ") VALUES (" + params + ")";
  sqlite3_stmt* st = nullptr;
  REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, std::string(sqlite3_errmsg(db)));
  exec(db, "BEGIN");
  for (const row& r : t.rows) {
    REQUIRE(r.vals.size() == t.cols.size());
    if (r.id) REQUIRE(sqlite3_bind_int64(st, 1, *r.id) == SQLITE_OK);
    else REQUIRE(sqlite3_bind_null(st, 1) == SQLITE_OK);
    for (std::size_t i = 0; i < r.vals.size(); ++i) bind(st, static_cast<int>(i) + 2, r.vals[i]);
    const int rc = sqlite3_step(st);
    REQUIRE_MESSAGE(rc == SQLITE_DONE, std::string(sqlite3_errmsg(db)));
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  exec(db, "COMMIT");
}

const std::vector<std::string> resource_cols = {"resource_type_id", "external_id", "parent_resource_type_id",
                                                "parent_resource_id", "sync_id"};
const std::vector<std::string> grant_cols = {"resource_type_id",           "resource_id",           "entitlement_id",
                                             "principal_resource_type_id", "principal_resource_id", "external_id",
                                             "sync_id"};

std::size_t col_index(const table_data& t, std::string_view name) {
  const auto it = std::find(t.cols.begin(), t.cols.end(), name);
  REQUIRE(it != t.cols.end());
  return static_cast<std::size_t>(it - t.cols.begin());
}

using rng_t = std::mt19937_64;

std::size_t pick(rng_t& rng, std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }

// Text of length [lo, hi] over a small alphabet (NUL and 0xFF included when `odd`), so that values
// repeat, share prefixes and differ in their last bytes.
std::string random_text(rng_t& rng, std::size_t lo, std::size_t hi, bool odd = false) {
  static constexpr char plain[] = "abcab";
  static constexpr char weird[] = {'a', 'b', '\0', '\x01', '\xff', 'a', '\0'};
  const std::size_t len = lo + pick(rng, hi - lo + 1);
  std::string s(len, 'a');
  for (char& c : s) c = odd ? weird[pick(rng, sizeof weird)] : plain[pick(rng, sizeof plain - 1)];
  return s;
}

// Makes (external_id, sync_id) unique over the table: a repeat gets a distinct suffix.
void make_ids_unique(table_data& t) {
  const std::size_t e = col_index(t, "external_id"), s = col_index(t, "sync_id");
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    row& r = t.rows[i];
    while (!seen.insert({r.vals[e].s, r.vals[s].s}).second) r.vals[e].s += "#" + std::to_string(i);
  }
}

// v1_resources: parents NULL for about a third of the rows, else text.
table_data random_resources(rng_t& rng, std::size_t n, std::size_t lo, std::size_t hi, bool odd = false) {
  table_data t{"v1_resources", resource_cols, {}};
  t.rows.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    row r;
    r.vals.push_back(T(random_text(rng, lo, hi, odd)));
    r.vals.push_back(T(random_text(rng, lo, hi, odd)));
    if (pick(rng, 3) == 0) {
      r.vals.push_back(N());
      r.vals.push_back(pick(rng, 2) == 0 ? N() : T(random_text(rng, lo, hi, odd)));
    } else {
      r.vals.push_back(T(random_text(rng, lo, hi, odd)));
      r.vals.push_back(pick(rng, 5) == 0 ? N() : T(random_text(rng, lo, hi, odd)));
    }
    r.vals.push_back(T(pick(rng, 2) == 0 ? "sync-a" : "sync-b"));
    t.rows.push_back(std::move(r));
  }
  make_ids_unique(t);
  return t;
}

table_data random_grants(rng_t& rng, std::size_t n, std::size_t lo, std::size_t hi, bool odd = false) {
  table_data t{"v1_grants", grant_cols, {}};
  t.rows.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    row r;
    for (std::size_t c = 0; c < grant_cols.size(); ++c) {
      r.vals.push_back(T(grant_cols[c] == "sync_id" ? std::string(pick(rng, 2) == 0 ? "sync-a" : "sync-b")
                                                     : random_text(rng, lo, hi, odd)));
    }
    t.rows.push_back(std::move(r));
  }
  make_ids_unique(t);
  return t;
}

// Rows in the order of the given columns (then as they were), so their rowids follow that order.
void sort_rows_by(table_data& t, const std::vector<std::string>& cols) {
  std::vector<std::size_t> idx;
  for (const auto& c : cols) idx.push_back(col_index(t, c));
  std::stable_sort(t.rows.begin(), t.rows.end(), [&](const row& a, const row& b) {
    for (std::size_t i : idx) {
      const val& x = a.vals[i];
      const val& y = b.vals[i];
      if (x.kind != y.kind) return x.kind == val::null_v;  // only NULL and text here
      if (x.s != y.s) return x.s < y.s;
    }
    return false;
  });
}

// ---------------------------------------------------------------------------------------------
// Raw pages: the shape of a b-tree as the builder wrote it.

struct tree_shape {
  int min_depth = 1 << 30, max_depth = 0;
  std::size_t pages = 0, entries = 0, leaf_overflow = 0, interior_overflow = 0;
  std::set<std::uint64_t> payloads;
};

struct page_reader {
  int fd = -1;
  std::uint32_t page_size = 0, usable = 0;
  explicit page_reader(const fs::path& p) : fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC)) {
    REQUIRE(fd >= 0);
    unsigned char h[100];
    REQUIRE(::pread(fd, h, sizeof h, 0) == static_cast<ssize_t>(sizeof h));
    page_size = (std::uint32_t{h[16]} << 8) | h[17];
    if (page_size == 1) page_size = 65536;
    usable = page_size - h[20];
  }
  ~page_reader() { ::close(fd); }
  std::string page(std::uint32_t n) const {
    std::string p(page_size, '\0');
    REQUIRE(::pread(fd, p.data(), page_size, static_cast<off_t>(n - 1) * page_size) == static_cast<ssize_t>(page_size));
    return p;
  }
};

std::uint32_t get_u16(const std::string& p, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(p[at])} << 8) | static_cast<unsigned char>(p[at + 1]);
}
std::uint32_t get_u32(const std::string& p, std::size_t at) {
  return (get_u16(p, at) << 16) | get_u16(p, at + 2);
}
// SQLite varint (file format 2.2), independent of index_key.cpp.
std::uint64_t get_varint(const unsigned char* p, std::size_t& len) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 9; ++i) {
    if (i == 8) {
      len = 9;
      return (v << 8) | p[8];
    }
    v = (v << 7) | (p[i] & 0x7f);
    if ((p[i] & 0x80) == 0) {
      len = i + 1;
      return v;
    }
  }
  return v;
}

void walk(const page_reader& r, std::uint32_t pgno, int depth, tree_shape& s) {
  const std::string p = r.page(pgno);
  const auto type = static_cast<unsigned char>(p[0]);
  REQUIRE((type == 0x0a || type == 0x02));
  const bool leaf = type == 0x0a;
  const std::size_t header = leaf ? 8 : 12;
  const std::uint32_t ncells = get_u16(p, 3);
  const std::uint32_t max_local = (r.usable - 12) * 64 / 255 - 23;
  ++s.pages;
  s.entries += ncells;
  for (std::uint32_t i = 0; i < ncells; ++i) {
    const std::uint32_t at = get_u16(p, header + 2 * i);
    std::size_t len = 0;
    const std::uint64_t payload = get_varint(reinterpret_cast<const unsigned char*>(p.data()) + at + (leaf ? 0 : 4), len);
    if (payload > max_local) ++(leaf ? s.leaf_overflow : s.interior_overflow);
    s.payloads.insert(payload);
    if (!leaf) walk(r, get_u32(p, at), depth + 1, s);
  }
  if (leaf) {
    s.min_depth = std::min(s.min_depth, depth);
    s.max_depth = std::max(s.max_depth, depth);
  } else {
    walk(r, get_u32(p, 8), depth + 1, s);
  }
}

tree_shape shape_of(const fs::path& db, const std::string& index) {
  std::uint32_t root = 0;
  {
    db_closer c{open_db(db)};
    root = static_cast<std::uint32_t>(query_int(c.db, "SELECT rootpage FROM sqlite_schema WHERE name = '" + index + "'"));
    c.close();
  }
  page_reader r(db);
  tree_shape s;
  walk(r, root, 1, s);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The comparison

std::vector<const index_def*> defs_of(const std::vector<std::string>& tables) {
  std::vector<const index_def*> out;
  for (const auto& d : c1z_index_defs()) {
    if (std::find(tables.begin(), tables.end(), d.table) != tables.end()) out.push_back(&d);
  }
  return out;
}

const index_def& def_named(std::string_view name) {
  for (const auto& d : c1z_index_defs()) {
    if (d.name == name) return d;
  }
  FAIL("no index " << name);
  throw 0;
}

std::string entries_sql(const index_def& d) {
  std::string cols;
  for (const auto& c : d.columns) cols += "\"" + c + "\", ";
  return "SELECT " + cols + "rowid FROM \"" + d.table + "\" INDEXED BY \"" + d.name + "\" ORDER BY " + cols + "rowid";
}

struct build_case {
  std::uint32_t page_size = 4096;
  int reserve_bytes = 0;
  std::string create_pragmas;  // before the tables (auto_vacuum, encoding)
  std::vector<table_data> tables;
  std::vector<std::string> after_fill_sql;     // deletes, before the copies are made
  std::vector<std::string> only_indexes;       // default: every index of the tables
  std::function<void(const fs::path&)> after_copy;  // on each copy, before building
  bulk_build_options options;
  bool mutate_after = true;  // the same changes on both copies afterwards
};

struct build_outcome {
  bulk_build_result result;
  fs::path bulk, ref;
  std::vector<const index_def*> defs;
};

void create_base(const fs::path& p, const build_case& c) {
  db_closer db{open_db(p)};
  if (c.reserve_bytes != 0) {
    int n = c.reserve_bytes;
    REQUIRE(sqlite3_file_control(db.db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n) == SQLITE_OK);
  }
  exec(db.db, "PRAGMA page_size=" + std::to_string(c.page_size) + "; PRAGMA journal_mode=OFF; " + c.create_pragmas);
  exec(db.db, std::string(schema_sql));
  for (const auto& t : c.tables) insert_rows(db.db, t);
  for (const auto& s : c.after_fill_sql) exec(db.db, s);
  REQUIRE(query_int(db.db, "PRAGMA page_size") == c.page_size);
  db.close();
}

// Copies of base made, the bulk one built (through register), the SQLite one with CREATE INDEX.
build_outcome build_copies(const scratch_dir& dir, const build_case& c, const fs::path& base) {
  build_outcome o;
  o.bulk = dir / "bulk.db";
  o.ref = dir / "ref.db";
  fs::copy_file(base, o.bulk, fs::copy_options::overwrite_existing);
  fs::copy_file(base, o.ref, fs::copy_options::overwrite_existing);
  if (c.after_copy) {
    c.after_copy(o.bulk);
    c.after_copy(o.ref);
  }
  std::vector<std::string> tables;
  for (const auto& t : c.tables) tables.push_back(t.table);
  if (c.only_indexes.empty()) {
    o.defs = defs_of(tables);
  } else {
    for (const auto& n : c.only_indexes) o.defs.push_back(&def_named(n));
  }
  {
    db_closer db{open_db(o.bulk)};
    exec(db.db, "PRAGMA journal_mode=OFF");
    o.result = bulk_build_indexes(db.db, o.bulk, o.defs, c.options);
    db.close();
  }
  register_built_indexes(o.bulk, o.result, "PRAGMA journal_mode=OFF;", {});
  {
    db_closer db{open_db(o.ref)};
    exec(db.db, "PRAGMA journal_mode=OFF");
    for (const index_def* d : o.defs) exec(db.db, d->sql);
    db.close();
  }
  return o;
}

void compare_copies(const build_outcome& o, bool schema_in_same_order) {
  CHECK(integrity(o.bulk) == "ok");
  REQUIRE(integrity(o.ref) == "ok");
  db_closer bulk{open_db(o.bulk)};
  db_closer ref{open_db(o.ref)};
  const std::string order = schema_in_same_order ? "rowid" : "type, name";
  const std::string schema = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY " + order;
  CHECK_MESSAGE(first_difference(query_rows(bulk.db, schema), query_rows(ref.db, schema)) == "", "sqlite_schema");
  for (const index_def* d : o.defs) {
    const std::string sql = entries_sql(*d);
    // Read from the index alone (a covering index scan), not from the table.
    const auto plan = query_rows(bulk.db, "EXPLAIN QUERY PLAN " + sql);
    REQUIRE(!plan.empty());
    CHECK_MESSAGE(plan[0].find("COVERING INDEX " + d->name) != std::string::npos, plan[0]);
    const std::string diff = first_difference(query_rows(bulk.db, sql), query_rows(ref.db, sql));
    CHECK_MESSAGE(diff == "", d->name << ": " << diff);
  }
  bulk.close();
  ref.close();
}

// Inserts, updates and deletes through SQLite on the bulk-built pages (balance, splits, merges).
void mutate(const fs::path& p, const std::vector<std::string>& tables) {
  db_closer db{open_db(p)};
  exec(db.db, "PRAGMA journal_mode=OFF; BEGIN");
  for (const auto& t : tables) {
    if (t == "v1_grants") {
      exec(db.db,
           "DELETE FROM v1_grants WHERE id % 7 = 3;"
           "UPDATE v1_grants SET resource_id = resource_id || 'u', principal_resource_id = 'p' || "
           "principal_resource_id, entitlement_id = substr(entitlement_id, 2) WHERE id % 5 = 1;"
           "INSERT INTO v1_grants (resource_type_id, resource_id, entitlement_id, principal_resource_type_id, "
           "principal_resource_id, external_id, data, sync_id, discovered_at) SELECT resource_type_id, "
           "resource_id || 'n', entitlement_id, principal_resource_type_id, principal_resource_id, external_id || "
           "char(1) || 'new', data, sync_id, discovered_at FROM v1_grants WHERE id % 11 = 2;");
    } else if (t == "v1_resources") {
      exec(db.db,
           "DELETE FROM v1_resources WHERE id % 7 = 3;"
           "UPDATE v1_resources SET resource_type_id = resource_type_id || 'u', parent_resource_id = "
           "CASE WHEN parent_resource_id IS NULL THEN 'was-null' ELSE NULL END WHERE id % 5 = 1;"
           "INSERT INTO v1_resources (resource_type_id, external_id, parent_resource_type_id, parent_resource_id, "
           "data, sync_id, discovered_at) SELECT resource_type_id, external_id || char(1) || 'new', "
           "parent_resource_type_id, parent_resource_id || 'n', data, sync_id, discovered_at FROM v1_resources "
           "WHERE id % 11 = 2;");
    }
  }
  exec(db.db, "COMMIT");
  db.close();
}

// The whole check of a case; returns what bulk_build_indexes said.
build_outcome check_case(const scratch_dir& dir, const build_case& c) {
  const fs::path base = dir / "base.db";
  create_base(base, c);
  build_outcome o = build_copies(dir, c, base);
  std::set<const index_def*> seen;
  for (const auto& b : o.result.built) seen.insert(b.def);
  for (const auto* d : o.result.fallback) CHECK(seen.insert(d).second);
  CHECK(seen.size() == o.defs.size());  // each asked index built or left to SQLite, once
  CHECK(fs::file_size(o.bulk) % c.page_size == 0);
  {
    INFO("right after the build");
    compare_copies(o, o.result.fallback.empty());
  }
  if (c.mutate_after) {
    INFO("after the same changes on both copies");
    std::vector<std::string> tables;
    for (const auto& t : c.tables) tables.push_back(t.table);
    mutate(o.bulk, tables);
    mutate(o.ref, tables);
    compare_copies(o, o.result.fallback.empty());
  }
  // No scratch file of the sorter is left behind.
  for (const auto& e : fs::directory_iterator(dir.path())) {
    CHECK(e.path().filename().string().find(".sort-") == std::string::npos);
  }
  return o;
}

bool built_sorted(const build_outcome& o, std::string_view name) {
  for (const auto& b : o.result.built) {
    if (b.def->name == name) return b.sorted_input;
  }
  FAIL("index " << name << " was not built");
  return false;
}

bool is_fallback(const build_outcome& o, std::string_view name) {
  return std::any_of(o.result.fallback.begin(), o.result.fallback.end(), [&](const index_def* d) { return d->name == name; });
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("bulk index: random tables at several page sizes make the indexes CREATE INDEX makes, 3+ levels deep") {
  struct params {
    std::uint32_t page_size;
    int reserve;
    std::size_t resources, grants, lo, hi;
  };
  params p{};
  SUBCASE("1024-byte pages") { p = {1024, 0, 8000, 8000, 1, 24}; }
  SUBCASE("4096-byte pages") { p = {4096, 0, 8000, 8000, 4, 60}; }
  SUBCASE("65536-byte pages") { p = {65536, 0, 1200, 1200, 200, 1500}; }
  SUBCASE("1024-byte pages, 40 reserved bytes a page") { p = {1024, 40, 5000, 5000, 1, 24}; }
  SUBCASE("512-byte pages") { p = {512, 0, 3000, 3000, 1, 16}; }
  CAPTURE(p.page_size);
  CAPTURE(p.reserve);
  rng_t rng(p.page_size * 7 + static_cast<std::uint64_t>(p.reserve));
  scratch_dir dir;
  build_case c;
  c.page_size = p.page_size;
  c.reserve_bytes = p.reserve;
  c.tables.push_back(random_resources(rng, p.resources, p.lo, p.hi));
  c.tables.push_back(random_grants(rng, p.grants, p.lo, p.hi));
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.fallback.empty());
  REQUIRE(o.result.built.size() == 7);
  CHECK(page_reader(o.bulk).usable == p.page_size - static_cast<std::uint32_t>(p.reserve));
  int deepest = 0;
  for (const auto& b : o.result.built) {
    const tree_shape s = shape_of(o.bulk, b.def->name);
    CAPTURE(b.def->name);
    CHECK(s.min_depth == s.max_depth);  // after mutate() too: every leaf at one depth
    deepest = std::max(deepest, s.max_depth);
    if (p.page_size <= 1024) CHECK(s.max_depth >= 3);
  }
  CHECK(deepest >= 3);
}

TEST_CASE("bulk index: NUL bytes, prefixes, empty strings and values that need overflow pages") {
  std::uint32_t page_size = 4096;
  std::size_t big = 3000;
  std::size_t n = 3000;
  SUBCASE("4096-byte pages, 3000-byte values") {
    page_size = 4096;
    big = 3000;
    n = 2000;
  }
  SUBCASE("1024-byte pages, 30 KB values") {
    page_size = 1024;
    big = 30000;
    n = 600;
  }
  SUBCASE("65536-byte pages, 40 KB values") {
    page_size = 65536;
    big = 40000;
    n = 500;
  }
  CAPTURE(page_size);
  rng_t rng(page_size + big);
  // A pool of values that are prefixes of each other, differ only after a NUL, or are long with
  // the difference at the very end (past the local part of the cell).
  const std::string long_a(big, 'q');
  std::string long_nul = long_a;
  long_nul[big / 2] = '\0';
  const std::vector<std::string> small = {"", std::string(1, '\0'), std::string(2, '\0'), "a", std::string("a\0", 2),
                                          std::string("a\0\0", 3), std::string("a\0b", 3), std::string("a\0\xff", 3),
                                          "a\x01", "a\xff", "ab", "abc", "abcd", "\xff", "\xff\xff", std::string("\0a", 2)};
  const std::vector<std::string> large = {long_a, long_a + "a", long_a + std::string(1, '\0'), long_a.substr(0, big - 1),
                                          long_nul, long_nul + "z", std::string(big * 2 / 3, 'q')};
  auto value = [&] {
    const std::size_t r = pick(rng, 100);
    if (r < 4) return large[pick(rng, large.size())];
    if (r < 6) return random_text(rng, big / 2, big, true);
    if (r < 40) return small[pick(rng, small.size())];
    if (r < 60) return small[pick(rng, small.size())] + random_text(rng, 0, 3, true);
    if (r < 80) return random_text(rng, 0, 6, true);
    return random_text(rng, 0, 40, true);
  };
  table_data res{"v1_resources", resource_cols, {}};
  table_data gr{"v1_grants", grant_cols, {}};
  for (std::size_t i = 0; i < n; ++i) {
    row r;
    for (std::size_t k = 0; k < resource_cols.size(); ++k) {
      r.vals.push_back(resource_cols[k].rfind("parent", 0) == 0 && pick(rng, 4) == 0 ? N() : T(value()));
    }
    res.rows.push_back(std::move(r));
    row g;
    for (std::size_t k = 0; k < grant_cols.size(); ++k) g.vals.push_back(T(value()));
    gr.rows.push_back(std::move(g));
  }
  make_ids_unique(res);
  make_ids_unique(gr);
  scratch_dir dir;
  build_case c;
  c.page_size = page_size;
  c.tables = {res, gr};
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.fallback.empty());
  std::size_t leaf_overflow = 0, interior_overflow = 0;
  int deepest = 0;
  for (const auto& b : o.result.built) {
    const tree_shape s = shape_of(o.bulk, b.def->name);
    leaf_overflow += s.leaf_overflow;
    interior_overflow += s.interior_overflow;
    deepest = std::max(deepest, s.max_depth);
  }
  // The case exercises what it is meant to: overflow pages from leaf and interior cells.
  CHECK(leaf_overflow > 0);
  CHECK(interior_overflow > 0);
  CHECK(deepest >= 2);
}

// Payload sizes at the edges of SQLite's local/overflow split (file format 1.6): a record of exactly
// maxLocal bytes stays whole, one byte more spills; past that the local part is minLocal + the
// surplus modulo (usable - 4) while that is at most maxLocal, else minLocal. One-column index
// records with 2-byte rowids: payload = 1 (header size) + varint(2L+13) + 1 (rowid type) + L + 2.
TEST_CASE("bulk index: record sizes at the edges of the local payload and of overflow pages") {
  std::uint32_t page_size = 4096;
  SUBCASE("1024") { page_size = 1024; }
  SUBCASE("4096") { page_size = 4096; }
  SUBCASE("65536") { page_size = 65536; }
  CAPTURE(page_size);
  const std::int64_t usable = page_size;
  const std::int64_t max_local = (usable - 12) * 64 / 255 - 23;
  const std::int64_t min_local = (usable - 12) * 32 / 255 - 23;
  const std::int64_t chunk = usable - 4;
  std::vector<std::int64_t> payloads;
  for (const std::int64_t base : {max_local, min_local + chunk, max_local + chunk, min_local + 2 * chunk,
                                  max_local + 2 * chunk}) {
    for (std::int64_t d = -2; d <= 2; ++d) payloads.push_back(base + d);
  }
  payloads.push_back(3 * chunk);
  payloads.push_back(3 * chunk + 1);
  table_data t{"v1_resources", resource_cols, {}};
  std::int64_t id = 128;  // 2-byte rowids up to 32767
  rng_t rng(page_size);
  for (const std::int64_t p : payloads) {
    const auto len_for = [](std::int64_t payload) {
      for (std::int64_t v = 1; v <= 3; ++v) {
        const std::int64_t l = payload - 4 - v;
        if (l >= 0 && static_cast<std::int64_t>(varint_size(static_cast<std::uint64_t>(2 * l + 13))) == v) return l;
      }
      return std::int64_t{-1};
    };
    const std::int64_t l = len_for(p);
    if (l < 0) continue;  // no length gives this payload (a varint size step)
    // Enough of each size that some go up as separators into interior pages.
    for (int k = 0; k < (page_size == 65536 ? 4 : 8); ++k) {
      std::string v = random_text(rng, static_cast<std::size_t>(l), static_cast<std::size_t>(l));
      t.rows.push_back({id++, {T(std::move(v)), T("e" + std::to_string(id)), N(), N(), T("s")}});
    }
  }
  std::shuffle(t.rows.begin(), t.rows.end(), rng);  // rowids stay 2-byte, order random: sorted
  REQUIRE(id < 32768);
  scratch_dir dir;
  build_case c;
  c.page_size = page_size;
  c.tables = {t};
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.fallback.empty());
  const tree_shape s = shape_of(o.bulk, "idx_resources_resource_type_id_v1");
  CHECK(s.leaf_overflow > 0);
  CHECK(s.interior_overflow > 0);
  // The sizes aimed at are there (the formula above is right).
  for (const std::int64_t p : {max_local, max_local + 1, max_local + chunk, min_local + chunk}) {
    CHECK_MESSAGE(s.payloads.count(static_cast<std::uint64_t>(p)) == 1, p);
  }
}

TEST_CASE("bulk index: rows in index order stream, random ones sort, a late break restarts the pass") {
  rng_t rng(33);
  scratch_dir dir;
  build_case c;
  c.page_size = 1024;
  SUBCASE("grants in (entitlement, principal) order: that index streams, the others sort") {
    table_data g = random_grants(rng, 10000, 1, 12);
    sort_rows_by(g, {"entitlement_id", "principal_resource_type_id", "principal_resource_id"});
    c.tables.push_back(std::move(g));
    const build_outcome o = check_case(dir, c);
    CHECK(built_sorted(o, "idx_grants_entitlement_id_principal_id_v1"));
    CHECK_FALSE(built_sorted(o, "idx_grants_external_sync_v1"));
    CHECK_FALSE(built_sorted(o, "idx_grants_resource_type_id_resource_id_v1"));
    CHECK_FALSE(built_sorted(o, "idx_grants_principal_id_v1"));
  }
  SUBCASE("every grant index in order (all columns one constant or rising), with overflow values") {
    table_data g{"v1_grants", grant_cols, {}};
    for (int i = 0; i < 6000; ++i) {
      char num[32];
      std::snprintf(num, sizeof num, "%08d", i);
      const std::string tail = i % 50 == 0 ? std::string(1500, 'z') : "";
      g.rows.push_back({std::nullopt, {T("course"), T(std::string("r") + num + tail), T("ent"), T("user"),
                                       T(std::string("u") + num + tail), T(std::string("g") + num + tail), T("s")}});
    }
    c.tables.push_back(std::move(g));
    const build_outcome o = check_case(dir, c);
    for (const auto& b : o.result.built) CHECK_MESSAGE(b.sorted_input, b.def->name);
  }
  SUBCASE("resources in order for the first 10k rows, out of order after: late breaks") {
    table_data r = random_resources(rng, 16000, 1, 12);
    // First 10000 sorted by resource_type_id, the rest random: that index breaks at row 10001.
    std::vector<row> head(r.rows.begin(), r.rows.begin() + 10000);
    table_data h{"v1_resources", resource_cols, head};
    sort_rows_by(h, {"resource_type_id"});
    std::copy(h.rows.begin(), h.rows.end(), r.rows.begin());
    // Parents sorted for the first 12000 rows (a second break, later), external ids all in order.
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
      char num[32];
      std::snprintf(num, sizeof num, "%08zu", i);
      r.rows[i].vals[col_index(r, "external_id")] = T(std::string("e") + num);
      if (i < 12000) {
        r.rows[i].vals[col_index(r, "parent_resource_type_id")] = i < 3000 ? N() : T("p");
        r.rows[i].vals[col_index(r, "parent_resource_id")] = T(std::string("q") + num);
      }
    }
    c.tables.push_back(std::move(r));
    const build_outcome o = check_case(dir, c);
    CHECK_FALSE(built_sorted(o, "idx_resources_resource_type_id_v1"));
    CHECK_FALSE(built_sorted(o, "idx_resources_external_sync_v1"));
    CHECK(built_sorted(o, "idx_resources_parent_resource_id_v1"));
  }
  SUBCASE("a break at the very last row") {
    table_data r = random_resources(rng, 5000, 1, 12);
    sort_rows_by(r, {"resource_type_id"});
    r.rows.back().vals[col_index(r, "resource_type_id")] = T("");  // the least text: only the last row is out of order
    c.tables.push_back(std::move(r));
    c.only_indexes = {"idx_resources_resource_type_id_v1"};
    const build_outcome o = check_case(dir, c);
    CHECK_FALSE(built_sorted(o, "idx_resources_resource_type_id_v1"));
  }
}

TEST_CASE("bulk index: deleted rows (a freelist), explicit negative and extreme rowids") {
  rng_t rng(44);
  scratch_dir dir;
  build_case c;
  c.page_size = 1024;
  table_data g = random_grants(rng, 15000, 1, 16);
  table_data r = random_resources(rng, 15000, 1, 16);
  // Rowids across the whole range, 0 and 1 included (record serial types 8 and 9).
  const std::vector<std::int64_t> extremes = {std::numeric_limits<std::int64_t>::min(), -4294967296, -32769, -129, -1, 0,
                                              1, 127, 128, 32767, 32768, 8388608, 2147483648LL, 140737488355328LL,
                                              std::int64_t{1} << 62};  // not the largest: SQLite would pick random rowids for new rows
  for (std::size_t i = 0; i < g.rows.size(); ++i) g.rows[i].id = 100000 + static_cast<std::int64_t>(i);
  for (std::size_t i = 0; i < r.rows.size(); ++i) r.rows[i].id = 100000 + static_cast<std::int64_t>(i);
  for (std::size_t i = 0; i < extremes.size(); ++i) g.rows[i * 97].id = extremes[i], r.rows[i * 89].id = extremes[i];
  c.tables = {g, r};
  c.after_fill_sql = {"DELETE FROM v1_grants WHERE id BETWEEN 102000 AND 109000 OR id % 3 = 0",
                      "DELETE FROM v1_resources WHERE id % 4 = 1 OR id BETWEEN 100500 AND 105000"};
  c.after_copy = [](const fs::path& p) {
    db_closer db{open_db(p)};
    CHECK(query_int(db.db, "PRAGMA freelist_count") > 0);
    db.close();
  };
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.fallback.empty());
  // The pages come after the free ones: the file is longer than SQLite's, with the same content.
  CHECK(fs::file_size(o.bulk) >= fs::file_size(o.ref));
}

TEST_CASE("bulk index: a tiny sort budget (several runs per index) gives the same indexes") {
  rng_t rng(55);
  scratch_dir dir;
  build_case c;
  c.page_size = 4096;
  c.options.sort_budget_bytes = 1;  // the sorter's least, 64 KiB: 10k keys of ~45 bytes are ~9 runs
  c.tables = {random_grants(rng, 10000, 1, 30, true), random_resources(rng, 10000, 1, 30, true)};
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.fallback.empty());
  CHECK_FALSE(built_sorted(o, "idx_grants_principal_id_v1"));
}

TEST_CASE("bulk index: a duplicate key in a unique index throws SQLite's UNIQUE message") {
  rng_t rng(66);
  scratch_dir dir;
  build_case c;
  c.page_size = 4096;
  table_data g = random_grants(rng, 20000, 1, 12);
  const std::size_t e = col_index(g, "external_id"), s = col_index(g, "sync_id");
  SUBCASE("rows in random order (sorted index)") {
    g.rows[15000].vals[e] = g.rows[123].vals[e];
    g.rows[15000].vals[s] = g.rows[123].vals[s];
  }
  SUBCASE("rows in key order (streamed index): the duplicates are adjacent") {
    sort_rows_by(g, {"external_id", "sync_id"});
    g.rows[9001].vals[e] = g.rows[9000].vals[e];
    g.rows[9001].vals[s] = g.rows[9000].vals[s];
  }
  SUBCASE("duplicate with NUL bytes and an overflowing value") {
    const std::string v = std::string("dup\0", 4) + std::string(5000, 'x');
    g.rows[7].vals[e] = T(v);
    g.rows[19999].vals[e] = T(v);
    g.rows[7].vals[s] = g.rows[19999].vals[s] = T("s");
  }
  c.tables.push_back(std::move(g));
  const fs::path base = dir / "base.db";
  create_base(base, c);
  const fs::path bulk = dir / "bulk.db";
  fs::copy_file(base, bulk);
  db_closer db{open_db(bulk)};
  bool threw = false;
  try {
    bulk_build_indexes(db.db, bulk, defs_of({"v1_grants"}), c.options);
  } catch (const cancelled&) {
    FAIL("cancelled instead of a UNIQUE error");
  } catch (const error& ex) {
    threw = true;
    const std::string what = ex.what();
    CHECK_MESSAGE(what.find("UNIQUE constraint failed: v1_grants.external_id, v1_grants.sync_id") != std::string::npos,
                  what);
  }
  CHECK(threw);
  db.close();
  // SQLite says the same.
  db_closer ref{open_db(base)};
  CHECK(sqlite3_exec(ref.db, def_named("idx_grants_external_sync_v1").sql.c_str(), nullptr, nullptr, nullptr) ==
        SQLITE_CONSTRAINT);
  CHECK(std::string(sqlite3_errmsg(ref.db)) == "UNIQUE constraint failed: v1_grants.external_id, v1_grants.sync_id");
  ref.close();
  for (const auto& f : fs::directory_iterator(dir.path())) {
    CHECK(f.path().filename().string().find(".sort-") == std::string::npos);
  }
}

TEST_CASE("bulk index: a value other than text leaves the index to SQLite; the database stays whole") {
  rng_t rng(77);
  scratch_dir dir;
  build_case c;
  c.page_size = 1024;
  table_data r = random_resources(rng, 6000, 1, 12);
  table_data g = random_grants(rng, 6000, 1, 12);
  std::vector<std::string> expect_fallback;
  std::vector<std::string> expect_built;
  SUBCASE("a blob in resource_type_id, late in the scan") {
    r.rows[4500].vals[col_index(r, "resource_type_id")] = B("\x01\x02");
    expect_fallback = {"idx_resources_resource_type_id_v1"};
    expect_built = {"idx_resources_external_sync_v1", "idx_resources_parent_resource_id_v1"};
  }
  SUBCASE("an empty blob in a column of two grant indexes, after a late break restarted the pass") {
    sort_rows_by(g, {"resource_type_id", "resource_id"});
    std::swap(g.rows[4000], g.rows[3999]);
    g.rows[5500].vals[col_index(g, "principal_resource_type_id")] = B("");
    expect_fallback = {"idx_grants_principal_id_v1", "idx_grants_entitlement_id_principal_id_v1"};
    expect_built = {"idx_grants_external_sync_v1", "idx_grants_resource_type_id_resource_id_v1"};
  }
  SUBCASE("the only index asked for falls back") {
    r.rows[0].vals[col_index(r, "resource_type_id")] = B("blob");
    c.only_indexes = {"idx_resources_resource_type_id_v1"};
    expect_fallback = {"idx_resources_resource_type_id_v1"};
  }
  SUBCASE("an integer bound to a TEXT column is stored as text: no fallback") {
    r.rows[500].vals[col_index(r, "resource_type_id")] = I(12345);
    g.rows[500].vals[col_index(g, "resource_id")] = I(-7);
    expect_built = {"idx_resources_resource_type_id_v1", "idx_grants_resource_type_id_resource_id_v1"};
  }
  c.tables = {r, g};
  const build_outcome o = check_case(dir, c);
  for (const auto& n : expect_fallback) CHECK_MESSAGE(is_fallback(o, n), n);
  CHECK(o.result.fallback.size() == expect_fallback.size());
  for (const auto& n : expect_built) {
    CHECK_MESSAGE(std::any_of(o.result.built.begin(), o.result.built.end(), [&](const built_index& b) { return b.def->name == n; }), n);
  }
  db_closer db{open_db(o.bulk)};
  for (const index_def* d : o.defs) {
    CHECK_MESSAGE(query_int(db.db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '" + d->name + "'") == 1,
                  d->name);
  }
  db.close();
}

TEST_CASE("bulk index: empty and one-row tables") {
  scratch_dir dir;
  build_case c;
  SUBCASE("empty, 4096") { c.page_size = 4096; }
  SUBCASE("empty, 65536 (cell content offset 65536 is stored as 0)") { c.page_size = 65536; }
  SUBCASE("one row each, 1024") {
    c.page_size = 1024;
    c.tables.push_back({"v1_grants", grant_cols, {{std::nullopt, {T(""), T(""), T(""), T(""), T(""), T(""), T("")}}}});
    c.tables.push_back({"v1_resources", resource_cols, {{0, {T("t"), T("e"), N(), N(), T("s")}}}});
  }
  SUBCASE("every row deleted") {
    c.page_size = 1024;
    rng_t rng(88);
    c.tables = {random_grants(rng, 3000, 1, 20), random_resources(rng, 3000, 1, 20)};
    c.after_fill_sql = {"DELETE FROM v1_grants", "DELETE FROM v1_resources"};
  }
  if (c.tables.empty()) {
    c.tables.push_back({"v1_grants", grant_cols, {}});
    c.tables.push_back({"v1_resources", resource_cols, {}});
  }
  c.tables.push_back({"v1_entitlements", {"resource_type_id", "resource_id", "external_id", "sync_id"}, {}});
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.fallback.empty());
  CHECK(o.result.built.size() == 9);
}

// (Pages under 480 usable bytes, the builder's other fallback, are no valid database: SQLite
// refuses them itself.)
TEST_CASE("bulk index: auto_vacuum databases are left to SQLite") {
  rng_t rng(99);
  scratch_dir dir;
  build_case c;
  c.page_size = 1024;
  SUBCASE("auto_vacuum=FULL") { c.create_pragmas = "PRAGMA auto_vacuum=FULL;"; }
  SUBCASE("auto_vacuum=INCREMENTAL") { c.create_pragmas = "PRAGMA auto_vacuum=INCREMENTAL;"; }
  c.tables = {random_grants(rng, 2000, 1, 12)};
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.built.empty());
  CHECK(o.result.fallback.size() == 4);
}

TEST_CASE("bulk index: a stop request at each stop point throws cancelled and leaves no scratch file") {
  rng_t rng(111);
  scratch_dir dir;
  build_case c;
  c.page_size = 4096;
  c.options.sort_budget_bytes = 1;
  table_data g = random_grants(rng, 20000, 1, 12);
  // A late break too: the stop points of the abandoned pass count.
  sort_rows_by(g, {"entitlement_id", "principal_resource_type_id", "principal_resource_id"});
  std::swap(g.rows[19000], g.rows[10]);
  c.tables.push_back(std::move(g));
  const fs::path base = dir / "base.db";
  create_base(base, c);
  const fs::path work = dir / "work.db";
  std::size_t asked = 0;
  {
    fs::copy_file(base, work, fs::copy_options::overwrite_existing);
    db_closer db{open_db(work)};
    bulk_build_options o = c.options;
    o.stop_requested = [&] {
      ++asked;
      return false;
    };
    const auto r = bulk_build_indexes(db.db, work, defs_of({"v1_grants"}), o);
    CHECK(r.built.size() == 4);
    db.close();
  }
  REQUIRE(asked >= 4);
  for (std::size_t k = 1; k <= asked; ++k) {
    CAPTURE(k);
    fs::copy_file(base, work, fs::copy_options::overwrite_existing);
    db_closer db{open_db(work)};
    bulk_build_options o = c.options;
    std::size_t n = 0;
    o.stop_requested = [&] { return ++n >= k; };
    CHECK_THROWS_AS(bulk_build_indexes(db.db, work, defs_of({"v1_grants"}), o), cancelled);
    CHECK(n == k);
    db.close();
    for (const auto& f : fs::directory_iterator(dir.path())) {
      CHECK(f.path().filename().string().find(".sort-") == std::string::npos);
    }
  }
}

TEST_CASE("bulk index: register_built_indexes stopped during a fallback CREATE INDEX throws cancelled") {
  rng_t rng(112);
  scratch_dir dir;
  build_case c;
  c.page_size = 4096;
  c.tables.push_back(random_grants(rng, 20000, 1, 12));
  const fs::path work = dir / "work.db";
  create_base(work, c);
  bulk_build_result r;
  {
    db_closer db{open_db(work)};
    r = bulk_build_indexes(db.db, work, {}, {});
    db.close();
  }
  r.fallback = defs_of({"v1_grants"});
  // With a rollback journal, so that the interrupted statement leaves the file as it was.
  CHECK_THROWS_AS(register_built_indexes(work, r, "PRAGMA journal_mode=DELETE;", [] { return true; }), cancelled);
  CHECK(integrity(work) == "ok");
}

// A connection that read the schema before the registration must see the new indexes (the schema
// cookie moves, as with CREATE INDEX): else its writes would not maintain them.
TEST_CASE("bulk index: a connection opened before register_built_indexes sees and maintains the indexes") {
  rng_t rng(113);
  scratch_dir dir;
  build_case c;
  c.page_size = 4096;
  c.tables.push_back(random_grants(rng, 3000, 1, 12));
  const fs::path work = dir / "work.db";
  create_base(work, c);
  db_closer early{open_db(work)};
  REQUIRE(query_int(early.db, "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'v1_grants' AND type = 'index'") == 0);
  {
    db_closer db{open_db(work)};
    const auto r = bulk_build_indexes(db.db, work, defs_of({"v1_grants"}), {});
    db.close();
    register_built_indexes(work, r, "PRAGMA journal_mode=OFF;", {});
  }
  CHECK(query_int(early.db, "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'v1_grants' AND type = 'index'") == 4);
  exec(early.db,
       "INSERT INTO v1_grants (resource_type_id, resource_id, entitlement_id, principal_resource_type_id, "
       "principal_resource_id, external_id, data, sync_id, discovered_at) VALUES ('rt', 'r', 'e', 'pt', 'p', "
       "'late', 'd', 's', 'now'); DELETE FROM v1_grants WHERE id % 10 = 0");
  early.close();
  CHECK(integrity(work) == "ok");
}

// The builder writes the UTF-8 bytes sqlite3_column_text gives; a UTF-16 database stores its text
// in UTF-16 (file format 1.3.13), so such a database is left to SQLite. The c1z writer never makes one.
TEST_CASE("bulk index: a UTF-16 database") {
  rng_t rng(117);
  scratch_dir dir;
  build_case c;
  c.page_size = 4096;
  c.create_pragmas = "PRAGMA encoding='UTF-16le';";
  c.tables.push_back(random_grants(rng, 2000, 1, 12));
  c.mutate_after = false;
  check_case(dir, c);
}

// The pages SQLite never uses: the lock-byte page at file offset 2^30 (file format 1.3.2). A
// database crossing 1 GiB is made cheaply: a small one whose freelist (one trunk page, the rest
// sparse) runs up to just before the page the builder would write first.
TEST_CASE("bulk index: a database that reaches the lock-byte page (1 GiB)") {
  rng_t rng(121);
  scratch_dir dir;
  build_case c;
  c.page_size = 65536;
  c.tables = {random_grants(rng, 3000, 10, 60)};
  c.mutate_after = false;
  constexpr std::uint32_t lock_page = (1u << 30) / 65536 + 1;  // 16385
  c.after_copy = [&](const fs::path& p) {
    const int fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    std::string h(100, '\0');
    REQUIRE(::pread(fd, h.data(), 100, 0) == 100);
    const std::uint32_t n = get_u32(h, 28);
    REQUIRE(get_u32(h, 36) == 0);  // no freelist yet
    const std::uint32_t last = lock_page - 2;  // the first new page is then just before the lock-byte page
    const std::uint32_t trunk = n + 1;
    std::string page(65536, '\0');
    auto put32 = [](std::string& b, std::size_t at, std::uint32_t v) {
      for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
    };
    put32(page, 4, last - trunk);
    for (std::uint32_t pg = trunk + 1, i = 0; pg <= last; ++pg, ++i) put32(page, 8 + 4 * i, pg);
    REQUIRE(::pwrite(fd, page.data(), page.size(), static_cast<off_t>(trunk - 1) * 65536) == 65536);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(last) * 65536) == 0);
    put32(h, 28, last);
    put32(h, 32, trunk);
    put32(h, 36, last - n);
    REQUIRE(::pwrite(fd, h.data(), 100, 0) == 100);
    ::close(fd);
    REQUIRE(integrity(p) == "ok");
  };
  const build_outcome o = check_case(dir, c);
  CHECK(o.result.page_count > lock_page);
  // The builder's pages must skip the lock-byte page, as SQLite's own allocations do.
  for (const auto& b : o.result.built) CHECK(b.root != lock_page);
}

TEST_CASE("page_sink: page numbers skip the lock-byte page") {
  scratch_dir dir;
  const fs::path p = dir / "sparse";
  const int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  for (const std::uint32_t page_size : {512u, 4096u, 65536u}) {
    CAPTURE(page_size);
    const std::uint32_t lock_page = (1u << 30) / page_size + 1;
    page_sink sink(fd, p, page_size, page_size, lock_page - 2);
    const std::vector<unsigned char> data(page_size, 0x5a);
    std::vector<std::uint32_t> got;
    for (int i = 0; i < 4; ++i) got.push_back(sink.write(data.data()));
    sink.flush();
    CHECK(std::find(got.begin(), got.end(), lock_page) == got.end());
    CHECK(sink.next_page() == lock_page + 3);
  }
  ::close(fd);
}

// ---------------------------------------------------------------------------------------------
// key_sorter alone

TEST_CASE("key_sorter: random keys come out in memcmp order, through several runs or none") {
  rng_t rng(131);
  scratch_dir dir;
  const fs::path scratch = dir / "runs";
  std::vector<std::string> keys;
  std::size_t budget = 1;
  std::size_t expect_runs_more_than = 1;
  auto add_random = [&](std::size_t n, std::string_view prefix) {
    for (std::size_t i = 0; i < n; ++i) {
      std::string k(prefix);
      k += random_text(rng, 0, 40, true);
      keys.push_back(std::move(k));
    }
  };
  SUBCASE("20k random keys, 64 KiB budget: several runs") { add_random(20000, ""); }
  SUBCASE("keys with a long common prefix, keys that are prefixes of others, duplicates") {
    const std::string pre(100, 'p');
    add_random(15000, pre);
    for (int i = 0; i < 300; ++i) keys.push_back(keys[pick(rng, keys.size())]);
    for (int i = 0; i < 300; ++i) {
      std::string k = keys[pick(rng, keys.size())];
      keys.push_back(k + std::string(static_cast<std::size_t>(i % 9), '\0'));
      keys.push_back(k.substr(0, pick(rng, k.size() + 1)));
    }
    keys.push_back(pre);
    keys.push_back(pre.substr(0, 50));
  }
  SUBCASE("keys larger than the budget and than the run reader's buffer") {
    add_random(3000, "");
    for (int i = 0; i < 5; ++i) keys.push_back(std::string(300000 + static_cast<std::size_t>(i), static_cast<char>('a' + i)));
    keys.push_back(std::string(300000, 'a') + "b");
  }
  SUBCASE("all in memory: no run") {
    add_random(5000, "x");
    budget = 64u << 20;
    expect_runs_more_than = 0;
  }
  SUBCASE("one key") {
    keys.push_back("only");
    budget = 64u << 20;
    expect_runs_more_than = 0;
  }
  SUBCASE("no key") {
    budget = 1;
    expect_runs_more_than = 0;
  }
  std::shuffle(keys.begin(), keys.end(), rng);
  {
    key_sorter s(scratch, budget);
    for (const auto& k : keys) s.add(k);
    s.sort();
    CAPTURE(s.runs());
    if (expect_runs_more_than > 0) CHECK(s.runs() > expect_runs_more_than);
    else CHECK(s.runs() == 0);
    std::vector<std::string> got;
    std::string_view k;
    while (s.next(k)) got.emplace_back(k);
    std::sort(keys.begin(), keys.end());  // std::string: char_traits<char>, memcmp order
    REQUIRE(got.size() == keys.size());
    CHECK(got == keys);
  }
  CHECK_FALSE(fs::exists(scratch));  // the run file goes with the sorter
}

// After the last key, next() keeps returning false, with runs (an empty merge heap) as without.
TEST_CASE("key_sorter: next() after the end keeps returning false") {
  scratch_dir dir;
  key_sorter s(dir / "runs", 1);
  for (int i = 0; i < 20000; ++i) s.add(std::to_string(i * 7919 % 20000) + std::string(20, 'k'));
  s.sort();
  REQUIRE(s.runs() > 1);
  std::string_view k;
  std::size_t n = 0;
  while (s.next(k)) ++n;
  CHECK(n == 20000);
  CHECK_FALSE(s.next(k));
  CHECK_FALSE(s.next(k));
}

// ---------------------------------------------------------------------------------------------
// index_key alone

namespace {

using opt_text = std::optional<std::string>;

std::string make_key(const std::vector<opt_text>& cols, std::int64_t rowid) {
  std::string k;
  for (const auto& c : cols) {
    if (c) append_key_text(k, *c);
    else append_key_null(k);
  }
  append_key_rowid(k, rowid);
  return k;
}

opt_text random_value(rng_t& rng) {
  static const std::vector<std::string> pool = {"", std::string(1, '\0'), std::string("\0\0", 2), "a",
                                                std::string("a\0", 2), std::string("a\0\xff", 3), "a\x01", "a\xff",
                                                "ab", std::string("\xff\0", 2), "\xff\xff"};
  switch (pick(rng, 4)) {
    case 0: return std::nullopt;
    case 1: return pool[pick(rng, pool.size())];
    case 2: return pool[pick(rng, pool.size())] + pool[pick(rng, pool.size())];
    default: return random_text(rng, 0, 5, true);
  }
}

std::int64_t random_rowid(rng_t& rng) {
  static const std::vector<std::int64_t> special = {std::numeric_limits<std::int64_t>::min(), -1, 0, 1, 127, 128,
                                                    std::numeric_limits<std::int64_t>::max()};
  if (pick(rng, 4) == 0) return special[pick(rng, special.size())];
  return static_cast<std::int64_t>(rng());
}

}  // namespace

TEST_CASE("index_key: memcmp order of keys is SQLite's ORDER BY order") {
  rng_t rng(141);
  db_closer db{open_db(":memory:")};
  exec(db.db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT)");
  sqlite3_stmt* ins = nullptr;
  REQUIRE(sqlite3_prepare_v2(db.db, "INSERT INTO t VALUES (?1, ?2, ?3)", -1, &ins, nullptr) == SQLITE_OK);
  std::vector<std::pair<std::string, std::int64_t>> keys;  // key, rowid
  std::set<std::int64_t> used;
  for (int i = 0; i < 4000; ++i) {
    const std::int64_t id = random_rowid(rng);
    if (!used.insert(id).second) continue;
    const opt_text a = random_value(rng), b = random_value(rng);
    sqlite3_bind_int64(ins, 1, id);
    if (a) sqlite3_bind_text(ins, 2, a->data(), static_cast<int>(a->size()), SQLITE_TRANSIENT);
    else sqlite3_bind_null(ins, 2);
    if (b) sqlite3_bind_text(ins, 3, b->data(), static_cast<int>(b->size()), SQLITE_TRANSIENT);
    else sqlite3_bind_null(ins, 3);
    REQUIRE(sqlite3_step(ins) == SQLITE_DONE);
    sqlite3_reset(ins);
    keys.emplace_back(make_key({a, b}, id), id);
  }
  sqlite3_finalize(ins);
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> ours;  // in query_rows' form: one integer cell a row
  for (const auto& k : keys) {
    const std::string cell = "I" + std::to_string(k.second);
    ours.push_back(std::to_string(cell.size()) + ":" + cell);
  }
  const auto sqlite_order = query_rows(db.db, "SELECT id FROM t ORDER BY a, b, id");
  CHECK(first_difference(ours, sqlite_order) == "");
  // Equal column values, equal key prefixes: the rowid alone decides.
  CHECK(make_key({std::string("a\0", 2)}, 5) < make_key({std::string("a\0", 2)}, 6));
  CHECK(make_key({std::nullopt}, std::numeric_limits<std::int64_t>::max()) < make_key({std::string()}, std::numeric_limits<std::int64_t>::min()));
  db.close();
}

TEST_CASE("index_key: key_to_record is the record SQLite stores in an index cell") {
  rng_t rng(151);
  // One-entry indexes built by SQLite in memory, their leaf cell read from sqlite3_serialize.
  auto sqlite_record = [](const std::vector<opt_text>& cols, std::int64_t rowid) {
    db_closer db{open_db(":memory:")};
    exec(db.db, "PRAGMA page_size=4096; CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT)");
    std::string names;
    for (std::size_t i = 0; i < cols.size(); ++i) names += (i ? ", " : "") + std::string(1, static_cast<char>('a' + i));
    exec(db.db, "CREATE INDEX i ON t (" + names + ")");
    sqlite3_stmt* ins = nullptr;
    std::string params = "?1";
    for (std::size_t i = 0; i < cols.size(); ++i) params += ", ?" + std::to_string(i + 2);
    REQUIRE(sqlite3_prepare_v2(db.db, ("INSERT INTO t (id, " + names + ") VALUES (" + params + ")").c_str(), -1, &ins,
                               nullptr) == SQLITE_OK);
    sqlite3_bind_int64(ins, 1, rowid);
    for (std::size_t i = 0; i < cols.size(); ++i) {
      const int at = static_cast<int>(i) + 2;
      if (cols[i]) sqlite3_bind_text(ins, at, cols[i]->data(), static_cast<int>(cols[i]->size()), SQLITE_TRANSIENT);
      else sqlite3_bind_null(ins, at);
    }
    REQUIRE(sqlite3_step(ins) == SQLITE_DONE);
    sqlite3_finalize(ins);
    const auto root = static_cast<std::uint32_t>(query_int(db.db, "SELECT rootpage FROM sqlite_schema WHERE name = 'i'"));
    sqlite3_int64 size = 0;
    unsigned char* bytes = sqlite3_serialize(db.db, "main", &size, 0);
    REQUIRE(bytes != nullptr);
    const std::string file(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
    sqlite3_free(bytes);
    db.close();
    const std::string page = file.substr(static_cast<std::size_t>(root - 1) * 4096, 4096);
    REQUIRE(static_cast<unsigned char>(page[0]) == 0x0a);
    REQUIRE(get_u16(page, 3) == 1);
    const std::uint32_t at = get_u16(page, 8);
    std::size_t len = 0;
    const std::uint64_t payload = get_varint(reinterpret_cast<const unsigned char*>(page.data()) + at, len);
    REQUIRE(payload < 1000);  // no overflow here
    return page.substr(at + len, payload);
  };
  std::vector<std::pair<std::vector<opt_text>, std::int64_t>> cases = {
      {{std::nullopt}, 0},
      {{std::nullopt}, 1},
      {{std::string()}, -1},
      {{std::string("a\0b", 3)}, 2},
      {{std::string(1, '\0'), std::nullopt}, 127},
      {{std::string(70, 'x'), std::string(500, '\0')}, 128},  // serial types of two bytes
      {{std::string("a"), std::string("b"), std::string("c")}, std::numeric_limits<std::int64_t>::min()},
      {{std::nullopt, std::nullopt, std::nullopt}, std::numeric_limits<std::int64_t>::max()},
      {{std::string("z")}, 140737488355327LL},
      {{std::string("z")}, 140737488355328LL},
      {{std::string("z")}, -2147483649LL},
      {{std::string("z")}, 8388607},
      {{std::string("z")}, -8388609},
  };
  // Headers longer than 127 bytes (their size a two-byte varint) need many columns: 3 is the most
  // here, so long texts stand in for them above. Random ones on top.
  for (int i = 0; i < 60; ++i) {
    std::vector<opt_text> cols;
    for (std::size_t n = 1 + pick(rng, 3); n > 0; --n) cols.push_back(random_value(rng));
    cases.emplace_back(cols, random_rowid(rng));
  }
  for (const auto& [cols, rowid] : cases) {
    CAPTURE(rowid);
    std::string record;
    key_to_record(make_key(cols, rowid), 4, record);
    const std::string expect = sqlite_record(cols, rowid);
    CHECK_MESSAGE(to_hex(record) == to_hex(expect), "columns " << cols.size());
  }
  // Schema format 1 has no serial types 8 and 9: 0 and 1 take a byte.
  std::string r1;
  key_to_record(make_key({std::nullopt}, 1), 1, r1);
  CHECK(to_hex(r1) == "03000101");
  key_to_record(make_key({std::nullopt}, 0), 1, r1);
  CHECK(to_hex(r1) == "03000100");
}

TEST_CASE("index_key: varints as SQLite reads them") {
  rng_t rng(161);
  std::vector<std::uint64_t> values = {0, 1, 127, 128, 16383, 16384, (1ull << 21) - 1, 1ull << 21, (1ull << 56) - 1,
                                       1ull << 56, (1ull << 63), std::numeric_limits<std::uint64_t>::max()};
  for (int i = 0; i < 2000; ++i) values.push_back(rng() >> pick(rng, 64));
  for (const std::uint64_t v : values) {
    CAPTURE(v);
    unsigned char buf[16] = {};
    const std::size_t n = put_varint(buf, v);
    CHECK(n == varint_size(v));
    std::size_t len = 0;
    CHECK(get_varint(buf, len) == v);
    CHECK(len == n);
    // The shortest form.
    std::size_t expect = 1;
    if (v > 0x00ffffffffffffffULL) expect = 9;
    else
      while (expect < 8 && (v >> (7 * expect)) != 0) ++expect;
    CHECK(n == expect);
  }
  unsigned char buf[9];
  CHECK(put_varint(buf, std::numeric_limits<std::uint64_t>::max()) == 9);
  CHECK(to_hex(std::string_view(reinterpret_cast<char*>(buf), 9)) == "ffffffffffffffffff");
}

TEST_CASE("bulk index: every index of the c1z schema is one the builder can build") {
  const auto& defs = bp::c1z::detail::c1z_index_defs();
  CHECK(defs.size() == 12);
  for (const auto& d : defs) {
    CAPTURE(d.name);
    CHECK(d.buildable);
    CHECK_FALSE(d.columns.empty());
  }
}

TEST_CASE("bulk index: an index the builder cannot build, or a header it cannot trust, goes to SQLite") {
  scratch_dir dir;
  const fs::path p = dir / "db";
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(p.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, std::string(bp::c1z::detail::schema_sql).c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "INSERT INTO v1_grants (resource_type_id, resource_id, entitlement_id, "
                             "principal_resource_type_id, principal_resource_id, external_id, data, sync_id, "
                             "discovered_at) VALUES ('course', 'c', 'e', 'user', 'u', 'g', 'd', 's', 'now')",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  std::vector<const bp::c1z::detail::index_def*> grant_defs;
  for (const auto& d : bp::c1z::detail::c1z_index_defs()) {
    if (d.table == "v1_grants") grant_defs.push_back(&d);
  }
  SUBCASE("not buildable") {
    bp::c1z::detail::index_def odd = *grant_defs.front();
    odd.buildable = false;
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(p.c_str(), &db) == SQLITE_OK);
    const auto r = bp::c1z::detail::bulk_build_indexes(db, p, {&odd}, {});
    sqlite3_close(db);
    REQUIRE(r.fallback.size() == 1);
    CHECK(r.built.empty());
    bp::c1z::detail::register_built_indexes(p, r, "PRAGMA journal_mode=OFF;", {});
  }
  SUBCASE("change counter and version-valid-for differ") {
    const int fd = ::open(p.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    unsigned char h[100];
    REQUIRE(::pread(fd, h, 100, 0) == 100);
    h[95] ^= 1;  // version-valid-for no longer equals the change counter
    REQUIRE(::pwrite(fd, h, 100, 0) == 100);
    ::close(fd);
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(p.c_str(), &db) == SQLITE_OK);
    const auto r = bp::c1z::detail::bulk_build_indexes(db, p, grant_defs, {});
    sqlite3_close(db);
    CHECK(r.fallback.size() == grant_defs.size());
    CHECK(r.built.empty());
    bp::c1z::detail::register_built_indexes(p, r, "PRAGMA journal_mode=OFF;", {});
  }
  CHECK(integrity(p) == "ok");
}
