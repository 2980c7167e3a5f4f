// Index builds on an existing database without indexes: SQLite's CREATE INDEX against the bulk
// builder (src/c1z/bulk_index), each on its own copy, median of 3.
// Usage: bench_index_build DB [table-prefix, default v1_grants]; the database must have the c1z
// tables and none of the chosen indexes (e.g. a c1z decompressed, its indexes dropped, vacuumed).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bulk_index.hpp"

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

const char* pragmas = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; "
                      "PRAGMA threads=0; PRAGMA cache_size=-16384;";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_index_build DB [table]\n");
    return 2;
  }
  const fs::path src = argv[1];
  const std::string table = argc > 2 ? argv[2] : "v1_grants";
  std::vector<const bp::c1z::detail::index_def*> defs;
  for (const auto& d : bp::c1z::detail::c1z_index_defs()) {
    if (d.table == table) defs.push_back(&d);
  }
  const fs::path work = fs::path(src).concat(".bench");
  std::vector<double> sqlite_s, bulk_s;
  for (int run = 0; run < 3; ++run) {
    for (const bool bulk : {false, true}) {
      fs::copy_file(src, work, fs::copy_options::overwrite_existing);
      sqlite3* db = nullptr;
      sqlite3_open(work.c_str(), &db);
      sqlite3_exec(db, pragmas, nullptr, nullptr, nullptr);
      const auto t0 = clock_type::now();
      if (bulk) {
        const auto r = bp::c1z::detail::bulk_build_indexes(db, work, defs, {});
        sqlite3_close(db);
        bp::c1z::detail::register_built_indexes(work, r, pragmas, {});
        bulk_s.push_back(seconds_since(t0));
      } else {
        for (const auto* d : defs) sqlite3_exec(db, d->sql.c_str(), nullptr, nullptr, nullptr);
        sqlite3_close(db);
        sqlite_s.push_back(seconds_since(t0));
      }
    }
  }
  fs::remove(work);
  std::printf("%zu indexes of %s: SQLite %.3f s, bulk %.3f s (median of 3)\n", defs.size(), table.c_str(),
              median(sqlite_s), median(bulk_s));
}
