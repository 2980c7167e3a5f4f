#pragma once
// Builds indexes of a finished database without SQLite's CREATE INDEX: each index's keys are read
// in one table scan; when they already come in index order (the grants the sync writes, in
// (course, entitlement, user) order) they go straight into b-tree pages, else through key_sorter.
// The pages are appended after the database's last page (free pages are not reused);
// register_built_indexes() then records them in sqlite_schema with the exact SQL SQLite would have
// stored: the same schema and the same entries as CREATE INDEX (PRAGMA integrity_check passes),
// though the pages are laid out and filled differently.
//
// An index whose columns hold anything but text or NULL, or that is not a plain ascending BINARY
// index, is left to SQLite (`fallback`).
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace bp::c1z::detail {

struct index_def {
  std::string name;
  std::string table;
  std::string sql;  // as sqlite_schema holds it
  std::vector<std::string> columns;
  bool unique = false;
  bool buildable = true;  // plain ascending BINARY columns, no WHERE: bulk_build_indexes can build it
};

// Every index of the c1z schema, in the order the writer creates them, read from an in-memory
// database made with the schema's own DDL (the single source of names, columns and SQL).
const std::vector<index_def>& c1z_index_defs();

struct built_index {
  const index_def* def = nullptr;
  std::uint32_t root = 0;
  bool sorted_input = false;  // the keys came in index order: no sort
};

struct bulk_build_result {
  std::vector<built_index> built;
  std::vector<const index_def*> fallback;  // for SQLite to build after registration
  std::uint32_t page_count = 0;            // of the database with the new pages
};

struct bulk_build_options {
  std::size_t sort_budget_bytes = 32u << 20;
  std::function<bool()> stop_requested;  // asked every few thousand rows; true throws c1z::cancelled
  // Pages 1..n are on disk and will not change any more (n only grows); e.g. to compress them meanwhile.
  std::function<void(std::uint32_t n)> pages_final;
};

// db: open, no transaction, nothing else writing. Reads the tables through db and writes the new
// pages to db_path past the database's end; the caller closes db before register_built_indexes().
// A duplicate key in a unique index throws c1z::error naming the columns, as SQLite's would.
bulk_build_result bulk_build_indexes(sqlite3* db, const std::filesystem::path& db_path,
                                     const std::vector<const index_def*>& indexes, const bulk_build_options& options);

// With the database closed: sets its page count, then records the built indexes in sqlite_schema
// and has SQLite build the fallback ones. `pragmas` configure the connection it opens.
void register_built_indexes(const std::filesystem::path& db_path, const bulk_build_result& result,
                            const std::string& pragmas, const std::function<bool()>& stop_requested);

}  // namespace bp::c1z::detail
