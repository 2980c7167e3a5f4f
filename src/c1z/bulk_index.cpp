#include "bulk_index.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "baton_percipio/c1z/error.hpp"
#include "big_endian.hpp"
#include "index_btree.hpp"
#include "index_key.hpp"
#include "key_sorter.hpp"
#include "posix_io.hpp"
#include "schema.hpp"
#include "sqlite_util.hpp"

namespace bp::c1z::detail {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(sqlite3* db, std::string_view op, const fs::path& path, int rc) {
  throw error(error_text(op, path, sqlite_message(db, rc)));
}

void exec(sqlite3* db, const std::string& sql, std::string_view op, const fs::path& path) {
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(db, op, path, rc);
}

void prepare(sqlite3* db, const std::string& sql, statement& st, const fs::path& path) {
  const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, st.out(), nullptr);
  if (rc != SQLITE_OK) fail(db, "prepare statement for", path, rc);
}

void bind_text(sqlite3* db, statement& st, int i, const std::string& v, const fs::path& path) {
  const int rc = sqlite3_bind_text(st.get(), i, v.c_str(), static_cast<int>(v.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) fail(db, "bind parameter " + std::to_string(i) + " for", path, rc);
}

std::vector<index_def> read_defs() {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw error("c1z: open an in-memory database: out of memory");
  }
  std::vector<index_def> defs;
  try {
    const fs::path mem(":memory:");
    exec(db, std::string(schema_sql), "create schema in", mem);
    exec(db, std::string(object_unique_index_sql), "create indexes in", mem);
    exec(db, std::string(object_index_sql), "create indexes in", mem);
    exec(db, std::string(grant_index_sql), "create indexes in", mem);
    statement q;
    prepare(db, "SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY rowid", q, mem);
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      index_def d;
      d.name = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
      d.table = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 1));
      d.sql = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 2));
      d.unique = d.sql.rfind("CREATE UNIQUE INDEX", 0) == 0;
      // The builder knows plain ascending BINARY columns of a full index; anything else (an
      // expression, DESC, another collation, WHERE) is left to SQLite.
      statement cols;
      const std::string info = "SELECT name, \"desc\", coll, cid FROM pragma_index_xinfo('" + d.name +
                               "') WHERE key ORDER BY seqno";
      prepare(db, info, cols, mem);
      while (sqlite3_step(cols.get()) == SQLITE_ROW) {
        const auto* name = sqlite3_column_text(cols.get(), 0);
        const auto* coll = sqlite3_column_text(cols.get(), 2);
        const bool plain = name != nullptr && sqlite3_column_int(cols.get(), 1) == 0 && coll != nullptr &&
                           std::string_view(reinterpret_cast<const char*>(coll)) == "BINARY" &&
                           sqlite3_column_int(cols.get(), 3) >= 0;
        d.buildable = d.buildable && plain;
        d.columns.emplace_back(name ? reinterpret_cast<const char*>(name) : "");
      }
      statement partial;
      const std::string list = "SELECT partial FROM pragma_index_list('" + d.table + "') WHERE name = '" + d.name + "'";
      prepare(db, list, partial, mem);
      d.buildable = d.buildable && !d.columns.empty() && sqlite3_step(partial.get()) == SQLITE_ROW &&
                    sqlite3_column_int(partial.get(), 0) == 0;
      defs.push_back(std::move(d));
    }
  } catch (...) {
    sqlite3_close(db);
    throw;
  }
  sqlite3_close(db);
  return defs;
}

struct geometry {
  std::uint32_t page_size = 0;
  std::uint32_t usable = 0;
  std::uint32_t schema_format = 4;
  std::uint32_t page_count = 0;
  bool auto_vacuum = false;
  bool utf8 = true;  // keys are written as UTF-8 text
  bool trusted = true;  // the header's page count is the database's
};

geometry read_geometry(int fd, const fs::path& path) {
  unsigned char h[100];
  if (pread_some(fd, h, sizeof h, 0, path) != sizeof h) throw_error("read", path, "no database header");
  geometry g;
  g.page_size = (std::uint32_t{h[16]} << 8) | h[17];
  if (g.page_size == 1) g.page_size = 65536;
  g.usable = g.page_size - h[20];
  g.schema_format = load_be32(h + 44);
  g.page_count = load_be32(h + 28);
  g.auto_vacuum = load_be32(h + 52) != 0;
  g.utf8 = load_be32(h + 56) <= 1;  // 0: not set yet, 1: UTF-8
  // The page count is valid when the change counter matches its version-valid-for number (file
  // format 1.3.7) and the file holds that many pages; else SQLite's own way.
  struct stat st {};
  g.trusted = load_be32(h + 24) == load_be32(h + 92) && ::fstat(fd, &st) == 0 &&
              static_cast<std::uint64_t>(st.st_size) >= std::uint64_t{g.page_count} * g.page_size;
  return g;
}

[[noreturn]] void fail_unique(const index_def& def, const fs::path& path) {
  std::string cols;
  for (const auto& c : def.columns) cols.append(cols.empty() ? "" : ", ").append(def.table + "." + c);
  throw error(error_text("create indexes in", path, "UNIQUE constraint failed: " + cols));
}

// Whether a key has a NULL column (UNIQUE lets those repeat).
bool key_has_null(std::string_view key) {
  std::size_t pos = 0;
  const std::size_t end = key.size() - rowid_key_bytes;
  while (pos < end) {
    if (key[pos++] == '\x00') return true;
    for (;;) {  // past the text's 00 00 terminator (00 FF is an escaped NUL)
      pos = key.find('\0', pos);
      if (pos == std::string_view::npos || pos + 1 >= end) return false;
      pos += 2;
      if (key[pos - 1] == '\x00') break;
    }
  }
  return false;
}

// Memcmp order of two keys; a unique index's keys may not be equal apart from the rowid.
int compare_keys(const index_def& def, std::string_view a, std::string_view b, const fs::path& path) {
  if (def.unique && a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() - rowid_key_bytes) == 0 &&
      !key_has_null(a)) {
    fail_unique(def, path);
  }
  return a.compare(b);
}

// One scan of a table for all of its indexes being built. An index whose keys come in order goes
// straight to pages ("streamed"); the others collect their keys in a key_sorter and are written
// after the scan. Pages of all of them share one page_sink.
class table_pass {
 public:
  enum class outcome { done, out_of_order, not_text };

  struct slot {
    const index_def* def;
    bool stream;
    std::vector<int> columns;  // positions in the row (0 is the rowid)
    std::unique_ptr<index_btree_writer> writer;
    std::unique_ptr<key_sorter> sorter;
    std::string key, prev;
    std::uint32_t root = 0;
  };

  table_pass(sqlite3* db, const fs::path& path, page_sink& sink, std::uint32_t schema_format,
             const bulk_build_options& opt)
      : db_(db), path_(path), sink_(sink), schema_format_(schema_format), opt_(opt) {}

  // indexes: of one table. On out_of_order / not_text, *culprit is the index at fault.
  outcome run(std::vector<slot>& slots, std::size_t& culprit) {
    std::vector<std::string> names;
    std::string sql = "SELECT rowid";
    std::size_t sorters = 0;
    for (const slot& s : slots) sorters += !s.stream;
    for (slot& s : slots) {
      s.columns.clear();
      for (const auto& c : s.def->columns) {
        auto it = std::find(names.begin(), names.end(), c);
        if (it == names.end()) {
          names.push_back(c);
          sql.append(", \"").append(c).append("\"");
          it = names.end() - 1;
        }
        s.columns.push_back(static_cast<int>(it - names.begin()) + 1);
      }
      s.prev.clear();
      s.writer.reset();
      s.sorter.reset();
      if (s.stream) {
        s.writer = std::make_unique<index_btree_writer>(sink_);
      } else {
        s.sorter = std::make_unique<key_sorter>(fs::path(path_).concat(".sort-" + s.def->name),
                                                opt_.sort_budget_bytes / sorters);
      }
    }
    sql.append(" FROM \"").append(slots.front().def->table).append("\" ORDER BY rowid");
    statement st;
    prepare(db_, sql, st, path_);
    int rc;
    const std::size_t ncols = names.size();
    std::vector<std::string_view> values(ncols + 1);
    std::vector<int> types(ncols + 1);
    std::uint64_t n = 0;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      for (std::size_t i = 1; i <= ncols; ++i) {
        const int type = types[i] = sqlite3_column_type(st.get(), static_cast<int>(i));
        if (type == SQLITE_TEXT) {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), static_cast<int>(i)));
          values[i] = std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st.get(), static_cast<int>(i))));
        }
      }
      const std::int64_t rowid = sqlite3_column_int64(st.get(), 0);
      for (std::size_t k = 0; k < slots.size(); ++k) {
        slot& s = slots[k];
        s.key.clear();
        for (const int c : s.columns) {
          const auto i = static_cast<std::size_t>(c);
          if (types[i] == SQLITE_NULL) append_key_null(s.key);
          else if (types[i] == SQLITE_TEXT) append_key_text(s.key, values[i]);
          else return culprit = k, outcome::not_text;
        }
        append_key_rowid(s.key, rowid);
        if (!s.stream) {
          s.sorter->add(s.key);
          continue;
        }
        if (!s.prev.empty() && compare_keys(*s.def, s.prev, s.key, path_) > 0) return culprit = k, outcome::out_of_order;
        key_to_record(s.key, schema_format_, record_);
        s.writer->add(record_);
        s.prev.swap(s.key);
      }
      if ((++n & 0x3fff) == 0) stop_point();
    }
    if (rc != SQLITE_DONE) fail(db_, "read", path_, rc);
    for (slot& s : slots) {
      if (s.stream) s.root = s.writer->finish();
    }
    pages_final();  // nothing rewinds this pass any more
    for (slot& s : slots) {
      if (s.stream) continue;
      s.sorter->sort();
      s.writer = std::make_unique<index_btree_writer>(sink_);
      std::string_view key;
      while (s.sorter->next(key)) {
        if (!s.prev.empty()) compare_keys(*s.def, s.prev, key, path_);
        key_to_record(key, schema_format_, record_);
        s.writer->add(record_);
        s.prev.assign(key);
        if ((++n & 0x3fff) == 0) stop_point();
      }
      s.root = s.writer->finish();
      s.sorter.reset();
      pages_final();
    }
    return outcome::done;
  }

 private:
  void pages_final() {
    if (!opt_.pages_final) return;
    sink_.flush();
    opt_.pages_final(sink_.next_page() - 1);
  }

  void stop_point() const {
    if (opt_.stop_requested && opt_.stop_requested()) throw cancelled();
  }

  sqlite3* db_;
  const fs::path& path_;
  page_sink& sink_;
  std::uint32_t schema_format_;
  const bulk_build_options& opt_;
  std::string record_;
};

}  // namespace

const std::vector<index_def>& c1z_index_defs() {
  static const std::vector<index_def> defs = read_defs();
  return defs;
}

bulk_build_result bulk_build_indexes(sqlite3* db, const fs::path& db_path, const std::vector<const index_def*>& indexes,
                                     const bulk_build_options& options) {
  fd_guard fd(::open(db_path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("open", db_path, errno);
  const geometry g = read_geometry(fd.get(), db_path);
  bulk_build_result result;
  if (g.auto_vacuum || g.usable < 480 || !g.utf8 || !g.trusted) {  // pointer-map pages, tiny pages, UTF-16: SQLite's way
    result.fallback = indexes;
    result.page_count = g.page_count;
    return result;
  }
  page_sink sink(fd.get(), db_path, g.page_size, g.usable, g.page_count + 1);
  table_pass pass(db, db_path, sink, g.schema_format, options);
  std::vector<std::string> tables;
  for (const index_def* d : indexes) {
    if (std::find(tables.begin(), tables.end(), d->table) == tables.end()) tables.push_back(d->table);
  }
  for (const std::string& table : tables) {
    std::vector<table_pass::slot> slots;
    for (const index_def* d : indexes) {
      if (d->table != table) continue;
      if (d->buildable) slots.push_back({d, true, {}, nullptr, nullptr, {}, {}, 0});
      else result.fallback.push_back(d);
    }
    if (slots.empty()) continue;
    // Every index starts streamed; one found out of order is sorted in the next pass, one with a
    // value other than text or NULL is left to SQLite. A pass's pages are written again by the next.
    for (;;) {
      const std::uint32_t start = sink.next_page();
      std::size_t culprit = 0;
      const auto o = pass.run(slots, culprit);
      if (o == table_pass::outcome::done) break;
      sink.rewind(start);
      if (o == table_pass::outcome::out_of_order) {
        slots[culprit].stream = false;
      } else {
        result.fallback.push_back(slots[culprit].def);
        slots.erase(slots.begin() + static_cast<std::ptrdiff_t>(culprit));
        if (slots.empty()) break;
      }
    }
    for (const auto& s : slots) result.built.push_back({s.def, s.root, s.stream});
  }
  sink.flush();
  result.page_count = sink.next_page() - 1;
  // Pages of an abandoned pass may lie past the end.
  if (::ftruncate(fd.get(), static_cast<off_t>(result.page_count) * g.page_size) != 0) {
    throw_errno("truncate", db_path, errno);
  }
  // Registered in the order asked for.
  std::vector<built_index> ordered;
  for (const index_def* d : indexes) {
    for (const auto& b : result.built) {
      if (b.def == d) ordered.push_back(b);
    }
  }
  result.built = std::move(ordered);
  return result;
}

void register_built_indexes(const fs::path& db_path, const bulk_build_result& result, const std::string& pragmas,
                            const std::function<bool()>& stop_requested) {
  if (result.built.empty() && result.fallback.empty()) return;
  {
    // The header's page count, valid for the next change counter (file format 1.3.7, 1.3.26).
    fd_guard fd(::open(db_path.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.get() < 0) throw_errno("open", db_path, errno);
    unsigned char h[100];
    if (pread_some(fd.get(), h, sizeof h, 0, db_path) != sizeof h) throw_error("read", db_path, "no database header");
    const std::uint32_t counter = load_be32(h + 24) + 1;
    store_be32(h + 24, counter);
    store_be32(h + 28, result.page_count);
    store_be32(h + 92, counter);
    pwrite_all(fd.get(), h, sizeof h, 0, db_path);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  try {
    if (rc != SQLITE_OK) fail(db, "open database", db_path, rc);
    exec(db, pragmas, "configure database", db_path);
    if (!result.built.empty()) {
      exec(db, "PRAGMA writable_schema=ON; BEGIN", "register indexes in", db_path);
      statement ins;
      prepare(db, "INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES ('index', ?1, ?2, ?3, ?4)",
              ins, db_path);
      for (const built_index& b : result.built) {
        bind_text(db, ins, 1, b.def->name, db_path);
        bind_text(db, ins, 2, b.def->table, db_path);
        if ((rc = sqlite3_bind_int64(ins.get(), 3, b.root)) != SQLITE_OK) fail(db, "bind parameter 3 for", db_path, rc);
        bind_text(db, ins, 4, b.def->sql, db_path);
        rc = sqlite3_step(ins.get());
        sqlite3_reset(ins.get());
        if (rc != SQLITE_DONE) fail(db, "register indexes in", db_path, rc);
      }
      if ((rc = ins.finalize()) != SQLITE_OK) fail(db, "register indexes in", db_path, rc);
      // As a CREATE INDEX would: the schema cookie moves, so any reader reloads the schema.
      exec(db, "COMMIT; PRAGMA writable_schema=OFF", "register indexes in", db_path);
      statement cookie;
      prepare(db, "PRAGMA schema_version", cookie, db_path);
      if ((rc = sqlite3_step(cookie.get())) != SQLITE_ROW) fail(db, "query", db_path, rc);
      const std::int64_t version = sqlite3_column_int64(cookie.get(), 0);
      cookie.finalize();
      exec(db, "PRAGMA schema_version=" + std::to_string(version + 1), "register indexes in", db_path);
    }
    if (!result.fallback.empty()) {
      if (stop_requested) set_stop_handler(db, &stop_requested);
      for (const index_def* d : result.fallback) {
        const int erc = sqlite3_exec(db, d->sql.c_str(), nullptr, nullptr, nullptr);
        if (erc != SQLITE_OK) {
          if (stop_requested && stop_requested()) throw cancelled();
          fail(db, "create indexes in", db_path, erc);
        }
      }
      set_stop_handler(db, nullptr);
    }
  } catch (...) {
    sqlite3_close_v2(db);
    throw;
  }
  rc = sqlite3_close(db);
  if (rc != SQLITE_OK) {
    sqlite3_close_v2(db);  // releases what it can; the error stands
    throw error(error_text("close", db_path, sqlite3_errstr(rc)));
  }
}

}  // namespace bp::c1z::detail
