#include "baton_percipio/c1z/writer.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "baton_percipio/c1z/ksuid.hpp"
#include "bulk_index.hpp"
#include "db_compressor.hpp"
#include "posix_io.hpp"
#include "schema.hpp"
#include "sqlite_util.hpp"

namespace bp::c1z {

namespace fs = std::filesystem;
using detail::throw_errno;
using detail::throw_error;

namespace {

// When this process started (static initialisation, or fork() for a child: pthread_atfork resets it).
// Leftovers older than this cannot belong to a writer of this process.
std::atomic<std::int64_t> process_start_ns{0};

void note_process_start() noexcept {
  process_start_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
}

const bool process_start_noted = [] {
  note_process_start();
  ::pthread_atfork(nullptr, nullptr, &note_process_start);
  return true;
}();

// ".NAME.work-XXXXXX" or ".NAME.tmp-XXXXXX" with a mkstemp suffix: our own naming, nothing else.
bool is_our_leftover(std::string_view entry, std::string_view dest_name) {
  for (std::string_view kind : {".work-", ".tmp-"}) {
    const std::size_t prefix = 1 + dest_name.size() + kind.size();
    if (entry.size() != prefix + 6 || entry[0] != '.' || entry.substr(1, dest_name.size()) != dest_name ||
        entry.substr(1 + dest_name.size(), kind.size()) != kind)
      continue;
    bool suffix_ok = true;
    for (char c : entry.substr(prefix)) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      suffix_ok = suffix_ok && alnum;
    }
    if (suffix_ok) return true;
  }
  return false;
}

// Removes working directories and temporary files that a killed writer of the same destination left
// in dir. Only entries with our exact naming, of our own file type (no symlinks), last modified before
// this process started, and not locked by a live writer (each writer holds an flock on its working
// directory and temporary file) are removed. Best effort: errors are ignored.
void remove_stale_leftovers(const fs::path& dir, std::string_view dest_name) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    const std::string name = p.filename().string();
    if (!is_our_leftover(name, dest_name)) continue;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    const bool is_dir = S_ISDIR(st.st_mode);
    if (!is_dir && !S_ISREG(st.st_mode)) continue;
    if (st.st_uid != ::geteuid()) continue;
    const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (mtime_ns >= process_start_ns.load()) continue;
    detail::fd_guard fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (is_dir ? O_DIRECTORY : 0)));
    if (fd.get() < 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a live writer holds it
    std::error_code rec;
    if (is_dir) fs::remove_all(p, rec);
    else fs::remove(p, rec);
  }
}

}  // namespace

struct writer::impl {
  writer_options opt;
  fs::path work_dir;
  fs::path db_path;
  fs::path tmp_file;  // set while the compressed temp file exists
  detail::fd_guard out;  // tmp_file, open while finish() writes it
  int work_lock = -1;  // fd of work_dir with an flock, held while this writer lives
  sqlite3* db = nullptr;
  sqlite3_stmt* ins_rt = nullptr;
  sqlite3_stmt* ins_res = nullptr;
  sqlite3_stmt* ins_ent = nullptr;
  sqlite3_stmt* ins_grant = nullptr;
  sqlite3_stmt* find_principal = nullptr;
  sqlite3_stmt* del_rowid = nullptr;
  std::string sync_id;
  std::chrono::system_clock::time_point started;
  std::string discovered_at;  // one timestamp per transaction
  std::string key_buf;        // reused "type:id" for resources
  std::size_t in_batch = 0;
  bool in_txn = false;
  bool done = false;  // finished or aborted
  std::string failed;  // the first database error: the writer cannot go on to a complete file after it
  writer_counts counts;

  fs::path destination_dir() const {
    return opt.destination.parent_path().empty() ? fs::path(".") : opt.destination.parent_path();
  }

  std::chrono::system_clock::time_point now() const {
    return opt.clock ? opt.clock() : std::chrono::system_clock::now();
  }

  // A database call returned rc. Rows may be missing from here on, so nothing else is accepted.
  [[noreturn]] void fail_sql(std::string_view op, int rc) {
    std::string msg = detail::error_text(op, db_path, db ? detail::sqlite_message(db, rc) : "out of memory");
    if (failed.empty()) failed = msg;
    throw error(msg);
  }

  void exec(const char* sql, std::string_view op) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail_sql(op, rc);
  }

  // sql is NUL-terminated (the statements are literals): no length to pass, none to truncate.
  void prepare(const char* sql, sqlite3_stmt** st, unsigned flags) {
    const int rc = sqlite3_prepare_v3(db, sql, -1, flags, st, nullptr);
    if (rc != SQLITE_OK) fail_sql("prepare statement for", rc);
  }
  sqlite3_stmt* prepare_persistent(const char* sql) {
    sqlite3_stmt* st = nullptr;
    prepare(sql, &st, SQLITE_PREPARE_PERSISTENT);
    return st;
  }

  void open() {
    const fs::path parent = opt.temp_dir.empty() ? opt.destination.parent_path() : opt.temp_dir;
    const fs::path dest_dir = destination_dir();
    const std::string dest_name = opt.destination.filename().string();
    // Leftovers of a killed earlier run of the same destination (kill -9, power loss).
    remove_stale_leftovers(dest_dir, dest_name);
    if (!opt.temp_dir.empty()) remove_stale_leftovers(opt.temp_dir, dest_name);
    work_dir = detail::make_temp_dir(parent.empty() ? fs::path(".") : parent, "." + dest_name + ".work-");
    // Held while this writer lives: marks the directory as in use for other processes' cleanup. Without
    // it, a writer of the same destination started later could take the directory for a leftover of
    // a killed run and delete it under this one: no lock, no writer.
    work_lock = ::open(work_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (work_lock < 0) throw_errno("open working directory", work_dir, errno);
    if (::flock(work_lock, LOCK_EX | LOCK_NB) != 0) throw_errno("lock working directory", work_dir, errno);
    db_path = work_dir / "db";
    // Created here so it is private (0600) whatever the umask; SQLite opens the existing empty file.
    {
      detail::fd_guard db_fd(::open(db_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (db_fd.get() < 0) throw_errno("create", db_path, errno);
    }
    connect("PRAGMA page_size=" + std::to_string(opt.page_size) + "; ");
    exec(std::string(detail::schema_sql).c_str(), "create schema in");
    if (!opt.ids_unique) exec(std::string(detail::object_unique_index_sql).c_str(), "create indexes in");
    prepare_statements();
  }

  // Opens the working database (again, after bulk-built indexes were registered) and configures it.
  // first: pragmas that must come before the rest (the page size of a new database).
  void connect(const std::string& first = {}) {
    const int rc = sqlite3_open_v2(db_path.c_str(), &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) fail_sql("open database", rc);
    exec((first + connection_pragmas()).c_str(), "configure database");
  }

  void prepare_statements() {
    ins_rt = prepare_persistent(
        "INSERT OR IGNORE INTO v1_resource_types (external_id, data, sync_id, discovered_at) VALUES (?1, ?2, ?3, ?4)");
    ins_res = prepare_persistent(
        "INSERT OR IGNORE INTO v1_resources (resource_type_id, external_id, parent_resource_type_id, "
        "parent_resource_id, data, sync_id, discovered_at) VALUES (?1, ?2, NULL, NULL, ?3, ?4, ?5)");
    ins_ent = prepare_persistent(
        "INSERT OR IGNORE INTO v1_entitlements (resource_type_id, resource_id, external_id, data, sync_id, "
        "discovered_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    ins_grant = prepare_persistent(
        "INSERT OR IGNORE INTO v1_grants (resource_type_id, resource_id, entitlement_id, "
        "principal_resource_type_id, principal_resource_id, external_id, data, sync_id, discovered_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    find_principal = prepare_persistent(
        "SELECT id FROM v1_grants WHERE principal_resource_type_id = ?1 AND principal_resource_id = ?2 AND sync_id = ?3");
    del_rowid = prepare_persistent("DELETE FROM v1_grants WHERE id = ?1");
  }

  // The working copy is private and disposable (a failed sync deletes it, nothing is ever rolled
  // back): no journal at all, no fsync. A journal in memory held every index page a transaction
  // touched, tens of MB on large tenants. journal_mode is not persisted in the file, so the final
  // database is a plain rollback-journal (DELETE-mode) file.
  std::string connection_pragmas() const {
    return "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; PRAGMA threads=" +
           std::to_string(opt.sort_threads) + "; PRAGMA cache_size=-" + std::to_string(opt.cache_mib * 1024) + ";";
  }

  // The schema's indexes the database does not have yet, in the order the schema creates them.
  std::vector<const detail::index_def*> missing_indexes() {
    std::vector<std::string> have;
    detail::statement q;
    prepare("SELECT name FROM sqlite_schema WHERE type = 'index'", q.out(), 0);
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      have.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0)));
    }
    if (rc != SQLITE_DONE) fail_sql("query", rc);
    std::vector<const detail::index_def*> out;
    for (const auto& d : detail::c1z_index_defs()) {
      if (std::find(have.begin(), have.end(), d.name) == have.end()) out.push_back(&d);
    }
    return out;
  }

  // finish(): every index still missing, built by bulk_build_indexes (SQLite only for those it
  // leaves); closes the database.
  void build_indexes_and_close(detail::split_compressor* split) {
    if (!opt.bulk_indexes) {
      apply_deferred_unique_indexes();
      // Those that index_objects() or index_grants() did not build yet (IF NOT EXISTS).
      exec(std::string(detail::object_index_sql).c_str(), "create indexes in");
      exec(std::string(detail::grant_index_sql).c_str(), "create indexes in");
      close_db_checked();
      return;
    }
    bulk_build_and_close(missing_indexes(), opt.stop_requested, split);
  }

  void bulk_build_and_close(const std::vector<const detail::index_def*>& defs, const std::function<bool()>& stop,
                            detail::split_compressor* split = nullptr) {
    detail::bulk_build_options bo;
    bo.sort_budget_bytes = opt.index_sort_mib << 20;
    bo.stop_requested = stop;
    if (split) bo.pages_final = [split](std::uint32_t n) { split->extend(n); };
    try {
      const auto built = detail::bulk_build_indexes(db, db_path, defs, bo);
      close_db_checked();
      detail::register_built_indexes(db_path, built, connection_pragmas(), stop);
    } catch (...) {
      note_failure("an index build failed");
      throw;
    }
  }

  // The database may be closed or half-registered: nothing else is accepted after this.
  void note_failure(const char* fallback) {
    if (!failed.empty()) return;
    try {
      throw;
    } catch (const std::exception& e) {
      failed = e.what();
    } catch (...) {
      failed = fallback;
    }
  }

  // index_objects(), index_grants(): the missing indexes of these tables, now; more rows may follow,
  // which SQLite then adds to them one by one.
  void index_tables_now(std::initializer_list<std::string_view> tables, std::string_view sql) {
    check_usable();
    commit();
    if (!opt.bulk_indexes) {
      exec(std::string(sql).c_str(), "create indexes in");
      return;
    }
    std::vector<const detail::index_def*> defs;
    for (const auto* d : missing_indexes()) {
      if (std::find(tables.begin(), tables.end(), d->table) != tables.end()) defs.push_back(d);
    }
    if (defs.empty()) return;
    bulk_build_and_close(defs, {});
    try {
      connect();
      prepare_statements();
    } catch (...) {
      note_failure("reopening the database failed");
      throw;
    }
  }

  // ids_unique: the unique indexes that index_objects()/index_grants() did not build yet.
  void apply_deferred_unique_indexes() {
    if (opt.ids_unique) exec(std::string(detail::object_unique_index_sql).c_str(), "create indexes in");
  }

  void check_usable() const {
    if (done) throw error("c1z: writer for " + opt.destination.string() + " is already finished or aborted");
    if (!failed.empty()) {
      throw error("c1z: writer for " + opt.destination.string() + " cannot go on after an earlier error (" + failed +
                  ")");
    }
  }

  // Opens a transaction when none is open; commits after batch_size rows.
  void before_row() {
    check_usable();
    if (!in_txn) {
      exec("BEGIN", "begin transaction in");
      in_txn = true;
      discovered_at = format_timestamp(now());
    }
  }

  // Runs a bound INSERT or DELETE; returns how many rows it changed.
  std::int64_t step_and_reset(sqlite3_stmt* st, std::string_view op) {
    const int rc = sqlite3_step(st);
    const int reset_rc = sqlite3_reset(st);  // repeats a failed step's code: checked after it
    if (rc != SQLITE_DONE) fail_sql(op, rc);
    if (reset_rc != SQLITE_OK) fail_sql("reset a statement of", reset_rc);
    return sqlite3_changes64(db);
  }

  bool after_row(sqlite3_stmt* st) {
    const bool changed = step_and_reset(st, "insert into") > 0;
    if (++in_batch >= opt.batch_size) commit();
    return changed;
  }

  void commit() {
    if (!in_txn) return;
    exec("COMMIT", "commit to");
    in_txn = false;
    in_batch = 0;
  }

  // 64-bit lengths: a value over SQLite's length limit fails (SQLITE_TOOBIG) instead of being cut to
  // its size modulo 2^32. SQLite binds a NULL pointer as SQL NULL, which the NOT NULL columns reject:
  // empty values point at "" instead.
  void bind_text(sqlite3_stmt* st, int i, std::string_view v) {
    const int rc = sqlite3_bind_text64(st, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
    if (rc != SQLITE_OK) fail_bind(i, rc);
  }
  void bind_blob(sqlite3_stmt* st, int i, std::string_view v) {
    const int rc = sqlite3_bind_blob64(st, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC);
    if (rc != SQLITE_OK) fail_bind(i, rc);
  }
  [[noreturn]] void fail_bind(int i, int rc) { fail_sql("bind parameter " + std::to_string(i) + " for", rc); }

  // finish(): the database must be complete on disk before it is compressed, so every finalize and
  // the close are checked (sqlite3_close, not _v2: it fails if anything is still open).
  void close_db_checked() {
    for (auto** st : {&ins_rt, &ins_res, &ins_ent, &ins_grant, &find_principal, &del_rowid}) {
      const int rc = sqlite3_finalize(*st);
      *st = nullptr;
      if (rc != SQLITE_OK) fail_sql("finalize a statement of", rc);
    }
    const int rc = sqlite3_close(db);
    if (rc != SQLITE_OK) fail_sql("close", rc);
    db = nullptr;
  }

  // Cleanup after a failure or an abort: nothing to report any more, the files are deleted.
  void close_db() noexcept {
    for (auto** st : {&ins_rt, &ins_res, &ins_ent, &ins_grant, &find_principal, &del_rowid}) {
      sqlite3_finalize(*st);
      *st = nullptr;
    }
    if (db) sqlite3_close_v2(db);
    db = nullptr;
  }

  void cleanup() noexcept {
    close_db();
    out.reset();
    std::error_code ec;
    if (!tmp_file.empty()) fs::remove(tmp_file, ec);
    tmp_file.clear();
    if (!work_dir.empty()) fs::remove_all(work_dir, ec);
    work_dir.clear();
    if (work_lock >= 0) ::close(work_lock);
    work_lock = -1;
  }

  void record_sync_run() {
    auto ended = std::max(now(), started);
    detail::statement st;
    prepare(
        "INSERT INTO v1_sync_runs (sync_id, started_at, ended_at, sync_token, sync_type, parent_sync_id) "
        "VALUES (?1, ?2, ?3, ?4, 'full', '')",
        st.out(), 0);
    const std::string s = format_timestamp(started);
    const std::string e = format_timestamp(ended);
    bind_text(st.get(), 1, sync_id);
    bind_text(st.get(), 2, s);
    bind_text(st.get(), 3, e);
    bind_text(st.get(), 4, detail::final_sync_token);
    const int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) fail_sql("record sync run in", rc);
    const int fin = st.finalize();
    if (fin != SQLITE_OK) fail_sql("finalize a statement of", fin);
  }

  std::int64_t pragma_int(const char* sql) {
    detail::statement st;
    prepare(sql, st.out(), 0);
    const int rc = sqlite3_step(st.get());
    if (rc != SQLITE_ROW) fail_sql("query", rc);
    const std::int64_t v = sqlite3_column_int64(st.get(), 0);
    const int fin = st.finalize();
    if (fin != SQLITE_OK) fail_sql("finalize a statement of", fin);
    return v;
  }

  detail::compress_settings compress_settings() const { return {opt.zstd_level, opt.zstd_workers, opt.stop_requested}; }

  // The temporary output next to the destination (renamed over it by publish()).
  void open_output() {
    const fs::path dir = destination_dir();
    // Built with append (not operator+ chains): GCC 12 at -O3 reports a false -Wrestrict on the latter.
    std::string base = ".";
    base.append(opt.destination.filename().string()).append(".tmp-XXXXXX");
    std::string tmpl = (dir / base).string();
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    out = detail::fd_guard(::mkostemp(name.data(), O_CLOEXEC));
    if (out.get() < 0) throw_errno("create temporary file in", dir, errno);
    tmp_file = name.data();
    // In use (see remove_stale_leftovers): unlocked, another writer's cleanup could delete it.
    if (::flock(out.get(), LOCK_EX | LOCK_NB) != 0) throw_errno("lock temporary file", tmp_file, errno);
    if (::fchmod(out.get(), static_cast<mode_t>(opt.file_mode)) != 0) throw_errno("chmod", tmp_file, errno);
  }

  // Every row is in place: the table pages are final unless SQLite reuses free pages for the indexes.
  std::unique_ptr<detail::split_compressor> start_split_compression() {
    if (!opt.overlap_compression) return nullptr;
    const std::int64_t pages = pragma_int("PRAGMA page_count");
    if (pages < 2 || pragma_int("PRAGMA freelist_count") != 0) return nullptr;
    const auto page = static_cast<std::uint32_t>(pragma_int("PRAGMA page_size"));
    return std::make_unique<detail::split_compressor>(db_path, out.get(), tmp_file, compress_settings(), page,
                                                      static_cast<std::uint64_t>(pages));
  }

  void publish() {
    const fs::path dir = destination_dir();
    if (::fsync(out.get()) != 0) throw_errno("fsync", tmp_file, errno);
    if (::close(out.release()) != 0) throw_errno("close", tmp_file, errno);
    if (::rename(tmp_file.c_str(), opt.destination.c_str()) != 0) {
      const int err = errno;
      throw_error("rename " + tmp_file.string() + " to", opt.destination, std::strerror(err));
    }
    tmp_file.clear();
    detail::fsync_dir(dir);
  }
};

writer::writer(writer_options options) : impl_(std::make_unique<impl>()) {
  impl_->opt = std::move(options);
  if (impl_->opt.batch_size == 0) impl_->opt.batch_size = 1;
  impl_->started = impl_->now();
  impl_->sync_id = make_ksuid(impl_->started);
  try {
    impl_->open();
  } catch (...) {
    impl_->cleanup();
    impl_->done = true;
    throw;
  }
}

writer::~writer() { abort(); }

const std::string& writer::sync_id() const { return impl_->sync_id; }

bool writer::add_resource_type(std::string_view id, std::string_view data) {
  auto& m = *impl_;
  m.before_row();
  m.bind_text(m.ins_rt, 1, id);
  m.bind_blob(m.ins_rt, 2, data);
  m.bind_text(m.ins_rt, 3, m.sync_id);
  m.bind_text(m.ins_rt, 4, m.discovered_at);
  const bool ok = m.after_row(m.ins_rt);
  m.counts.resource_types += ok;
  return ok;
}

bool writer::add_resource(std::string_view type, std::string_view id, std::string_view data) {
  auto& m = *impl_;
  m.before_row();
  m.key_buf.assign(type).append(1, ':').append(id);
  m.bind_text(m.ins_res, 1, type);
  m.bind_text(m.ins_res, 2, m.key_buf);
  m.bind_blob(m.ins_res, 3, data);
  m.bind_text(m.ins_res, 4, m.sync_id);
  m.bind_text(m.ins_res, 5, m.discovered_at);
  const bool ok = m.after_row(m.ins_res);
  m.counts.resources += ok;
  return ok;
}

bool writer::add_entitlement(std::string_view resource_type, std::string_view resource_id,
                             std::string_view entitlement_id, std::string_view data) {
  auto& m = *impl_;
  m.before_row();
  m.bind_text(m.ins_ent, 1, resource_type);
  m.bind_text(m.ins_ent, 2, resource_id);
  m.bind_text(m.ins_ent, 3, entitlement_id);
  m.bind_blob(m.ins_ent, 4, data);
  m.bind_text(m.ins_ent, 5, m.sync_id);
  m.bind_text(m.ins_ent, 6, m.discovered_at);
  const bool ok = m.after_row(m.ins_ent);
  m.counts.entitlements += ok;
  return ok;
}

bool writer::add_grant(std::string_view resource_type, std::string_view resource_id, std::string_view entitlement_id,
                       std::string_view principal_type, std::string_view principal_id, std::string_view grant_id,
                       std::string_view data) {
  auto& m = *impl_;
  m.before_row();
  auto* st = m.ins_grant;
  m.bind_text(st, 1, resource_type);
  m.bind_text(st, 2, resource_id);
  m.bind_text(st, 3, entitlement_id);
  m.bind_text(st, 4, principal_type);
  m.bind_text(st, 5, principal_id);
  m.bind_text(st, 6, grant_id);
  m.bind_blob(st, 7, data);
  m.bind_text(st, 8, m.sync_id);
  m.bind_text(st, 9, m.discovered_at);
  const bool ok = m.after_row(st);
  m.counts.grants += ok;
  return ok;
}

void writer::index_objects() { impl_->index_tables_now({"v1_resources", "v1_entitlements"}, detail::object_index_sql); }

void writer::index_grants() { impl_->index_tables_now({"v1_grants"}, detail::grant_index_sql); }

std::uint64_t writer::remove_grants_of(std::string_view principal_type, std::span<const std::string_view> principal_ids) {
  auto& m = *impl_;
  m.check_usable();
  std::vector<std::string_view> ids(principal_ids.begin(), principal_ids.end());
  std::sort(ids.begin(), ids.end());  // the principal index is walked in its order
  std::vector<std::int64_t> rowids;
  auto* st = m.find_principal;
  for (const auto id : ids) {
    m.bind_text(st, 1, principal_type);
    m.bind_text(st, 2, id);
    m.bind_text(st, 3, m.sync_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) rowids.push_back(sqlite3_column_int64(st, 0));
    const int reset_rc = sqlite3_reset(st);
    if (rc != SQLITE_DONE) m.fail_sql("query", rc);
    if (reset_rc != SQLITE_OK) m.fail_sql("reset a statement of", reset_rc);
  }
  std::sort(rowids.begin(), rowids.end());
  std::uint64_t removed = 0;
  for (const auto rowid : rowids) {
    m.before_row();
    const int rc = sqlite3_bind_int64(m.del_rowid, 1, rowid);
    if (rc != SQLITE_OK) m.fail_bind(1, rc);
    removed += static_cast<std::uint64_t>(m.step_and_reset(m.del_rowid, "delete from"));  // 0 for an id given twice
    if (++m.in_batch >= m.opt.batch_size) m.commit();
  }
  m.counts.grants -= removed;
  return removed;
}

writer_counts writer::counts() const { return impl_->counts; }

finish_result writer::finish() {
  auto& m = *impl_;
  m.check_usable();
  try {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    auto stop_point = [&] {
      if (m.opt.stop_requested && m.opt.stop_requested()) throw cancelled();
    };
    stop_point();
    if (m.opt.stop_requested) {
      // Index builds are long on large tenants: SQLite asks every few thousand steps.
      detail::set_stop_handler(m.db, &m.opt.stop_requested);
    }
    m.commit();
    m.record_sync_run();
    m.open_output();
    // Rows no longer change: the table pages can be compressed while the indexes are built.
    std::unique_ptr<detail::split_compressor> split = m.start_split_compression();
    try {
      m.build_indexes_and_close(split.get());
    } catch (const error&) {
      stop_point();  // an interrupted index build is a cancellation, not a database failure
      throw;
    }
    stop_point();
    const auto t1 = clock::now();
    std::optional<detail::compressed_sizes> sizes;
    if (split) sizes = split->finish();
    split.reset();
    finish_result result;
    result.compressed_during_indexes = sizes.has_value();
    if (!sizes) {
      if (::ftruncate(m.out.get(), 0) != 0 || ::lseek(m.out.get(), 0, SEEK_SET) != 0) {
        throw_errno("truncate", m.tmp_file, errno);
      }
      sizes = detail::compress_database(m.db_path, m.out.get(), m.tmp_file, m.compress_settings());
    }
    stop_point();  // the last moment the previous file can be kept
    m.publish();
    result.database_bytes = sizes->database_bytes;
    result.file_bytes = sizes->file_bytes;
    result.index_seconds = std::chrono::duration<double>(t1 - t0).count();
    result.compress_seconds = std::chrono::duration<double>(clock::now() - t1).count();
    m.done = true;
    m.cleanup();
    return result;
  } catch (...) {
    m.done = true;
    m.cleanup();
    throw;
  }
}

void writer::abort() noexcept {
  if (!impl_) return;
  impl_->done = true;
  impl_->cleanup();
}

}  // namespace bp::c1z
