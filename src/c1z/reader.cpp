#include "baton_percipio/c1z/reader.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include "posix_io.hpp"
#include "schema.hpp"
#include "sqlite_util.hpp"

namespace bp::c1z {

namespace fs = std::filesystem;
using detail::throw_errno;
using detail::throw_error;

namespace {

using detail::statement;

std::string_view column_text(sqlite3_stmt* st, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st, i))) : std::string_view();
}

std::string_view column_blob(sqlite3_stmt* st, int i) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(st, i));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(st, i))) : std::string_view();
}

}  // namespace

struct reader::impl {
  fs::path file;
  fs::path work_dir;
  fs::path db_path;
  sqlite3* db = nullptr;
  sync_run_info sync;
  std::uint64_t db_bytes = 0;

  ~impl() {
    if (db) sqlite3_close_v2(db);
    std::error_code ec;
    if (!work_dir.empty()) fs::remove_all(work_dir, ec);
  }

  [[noreturn]] void fail(std::string_view what) {
    throw error("c1z: " + std::string(what) + ": " + file.string());
  }
  [[noreturn]] void fail_sql(std::string_view op, int rc) const {
    throw error("c1z: " + std::string(op) + " " + file.string() + ": " +
                (db ? detail::sqlite_message(db, rc) : "out of memory"));
  }

  void prepare(const char* sql, statement& s, std::string_view op) const {
    const int rc = sqlite3_prepare_v2(db, sql, -1, s.out(), nullptr);
    if (rc != SQLITE_OK) fail_sql(op, rc);
  }
  void bind_text(statement& s, int i, std::string_view v, std::string_view op) const {
    const int rc = sqlite3_bind_text64(s.get(), i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
    if (rc != SQLITE_OK) fail_sql(op, rc);
  }
  void finalize(statement& s, std::string_view op) const {
    const int rc = s.finalize();
    if (rc != SQLITE_OK) fail_sql(op, rc);
  }

  void decompress(const reader_options& opt) {
    detail::fd_guard in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) throw_errno("open", file, errno);
    unsigned char head[sizeof detail::magic] = {};
    std::size_t got = 0;
    while (got < sizeof head) {
      const std::size_t n = detail::read_some(in.get(), head + got, sizeof head - got, file);
      if (n == 0) break;
      got += n;
    }
    if (got == 0) fail("not a c1z file (empty)");
    if (got < sizeof head || std::memcmp(head, detail::magic, sizeof head) != 0) fail("not a c1z file");

    const fs::path parent = opt.temp_dir.empty() ? fs::temp_directory_path() : opt.temp_dir;
    work_dir = detail::make_temp_dir(parent, "c1z");
    db_path = work_dir / "db";
    detail::fd_guard out(::open(db_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (out.get() < 0) throw_errno("create", db_path, errno);

    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
    if (!dctx) fail("out of memory decompressing");
    ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, 27);  // baton's 128 MiB decoder limit
    std::vector<char> ibuf(ZSTD_DStreamInSize() * 8);
    std::vector<char> obuf(1 << 20);
    std::size_t last = 1;  // 0 once a frame is complete
    bool any_input = false;
    for (;;) {
      const std::size_t n = detail::read_some(in.get(), ibuf.data(), ibuf.size(), file);
      if (n == 0) break;
      any_input = true;
      ZSTD_inBuffer input{ibuf.data(), n, 0};
      while (input.pos < input.size) {
        ZSTD_outBuffer output{obuf.data(), obuf.size(), 0};
        last = ZSTD_decompressStream(dctx.get(), &output, &input);
        if (ZSTD_isError(last)) fail(std::string("corrupt zstd data (") + ZSTD_getErrorName(last) + ")");
        db_bytes += output.pos;
        if (db_bytes > opt.max_decoded_bytes) fail("decompressed size exceeds the limit");
        detail::write_all(out.get(), obuf.data(), output.pos, db_path);
      }
    }
    // Flush whatever the decoder still holds for a frame whose input ended exactly at a block.
    while (any_input && last != 0) {
      ZSTD_inBuffer input{nullptr, 0, 0};
      ZSTD_outBuffer output{obuf.data(), obuf.size(), 0};
      last = ZSTD_decompressStream(dctx.get(), &output, &input);
      if (ZSTD_isError(last)) fail(std::string("corrupt zstd data (") + ZSTD_getErrorName(last) + ")");
      if (output.pos == 0) break;
      db_bytes += output.pos;
      if (db_bytes > opt.max_decoded_bytes) fail("decompressed size exceeds the limit");
      detail::write_all(out.get(), obuf.data(), output.pos, db_path);
    }
    if (!any_input || last != 0) fail("truncated c1z file");

    // Validate the payload and turn a WAL-mode header (Go writes 02 02) into rollback mode: our private
    // copy has no -wal file, and a rollback-mode file opens read-only without creating -shm.
    static constexpr char sqlite_magic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                              'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
    char hdr[20] = {};
    if (db_bytes < 100 || ::pread(out.get(), hdr, sizeof hdr, 0) != static_cast<ssize_t>(sizeof hdr) ||
        std::memcmp(hdr, sqlite_magic, sizeof sqlite_magic) != 0)
      fail("c1z payload is not an SQLite database");
    if (hdr[18] == 2 || hdr[19] == 2) {
      const char rollback[2] = {1, 1};
      if (::pwrite(out.get(), rollback, 2, 18) != 2) throw_errno("write", db_path, errno);
    }
    if (::close(out.release()) != 0) throw_errno("close", db_path, errno);
  }

  void open_db() {
    const int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) fail_sql("open database of", rc);
  }

  bool has_column(std::string_view table, std::string_view column) const {
    statement s;
    const std::string sql = "PRAGMA table_info(" + std::string(table) + ")";
    prepare(sql.c_str(), s, "read schema of");
    bool table_exists = false;
    bool found = false;
    int rc = SQLITE_DONE;
    while (!found && (rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      table_exists = true;
      found = column_text(s.get(), 1) == column;
    }
    if (!found && rc != SQLITE_DONE) fail_sql("read schema of", rc);
    finalize(s, "read schema of");
    if (found) return true;
    if (!table_exists) throw error("c1z: not a baton database (no " + std::string(table) + "): " + file.string());
    return false;
  }

  void select_sync() {
    // Files from before the sync_type/parent_sync_id migration read as full syncs (spec 2.6).
    const bool typed = has_column("v1_sync_runs", "sync_type");
    const bool parented = has_column("v1_sync_runs", "parent_sync_id");
    const std::string sql = std::string("SELECT sync_id, started_at, ended_at, sync_token, ") +
                            (typed ? "sync_type" : "'full'") + ", " + (parented ? "parent_sync_id" : "''") +
                            " FROM v1_sync_runs WHERE ended_at IS NOT NULL" + (typed ? " AND sync_type = 'full'" : "") +
                            " ORDER BY ended_at DESC LIMIT 1";
    statement s;
    prepare(sql.c_str(), s, "read sync runs of");
    const int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE) fail("no finished full sync in");
    if (rc != SQLITE_ROW) fail_sql("read sync runs of", rc);
    sync.sync_id = column_text(s.get(), 0);
    sync.started_at = column_text(s.get(), 1);
    sync.ended_at = column_text(s.get(), 2);
    sync.sync_token = column_text(s.get(), 3);
    sync.sync_type = column_text(s.get(), 4);
    sync.parent_sync_id = column_text(s.get(), 5);
    finalize(s, "read sync runs of");
  }

  // Runs sql (with ?1 = sync id) and calls row(st) per result row.
  template <typename F>
  void query(const char* sql, std::string_view op, F&& row) const {
    statement s;
    prepare(sql, s, op);
    bind_text(s, 1, sync.sync_id, op);
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) row(s.get());
    if (rc != SQLITE_DONE) fail_sql(op, rc);
    finalize(s, op);
  }

  template <typename M>
  void decode(M& m, std::string_view data, std::string_view what, std::int64_t id) const {
    // Columns are at most INT_MAX bytes (sqlite3_column_bytes is an int); checked all the same.
    if (data.size() > static_cast<std::size_t>(INT_MAX) ||
        !m.ParseFromArray(data.data(), static_cast<int>(data.size())))
      throw error("c1z: undecodable " + std::string(what) + " in row " + std::to_string(id) + " of " + file.string());
  }

  std::uint64_t count(const char* sql, std::string_view op, std::string_view arg = {}) const {
    statement s;
    prepare(sql, s, op);
    bind_text(s, 1, sync.sync_id, op);
    if (!arg.empty() || sqlite3_bind_parameter_count(s.get()) >= 2) bind_text(s, 2, arg, op);
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) fail_sql(op, rc);
    const auto n = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 0));
    finalize(s, op);
    return n;
  }
};

reader::reader(const fs::path& file, reader_options options) : impl_(std::make_unique<impl>()) {
  impl_->file = file;
  impl_->decompress(options);
  impl_->open_db();
  impl_->select_sync();
  // SQLite holds the file open from here on: drop the directory now so nothing is left behind even if
  // the process is killed (e.g. `inspect ... | head` and SIGPIPE).
  std::error_code ec;
  fs::remove_all(impl_->work_dir, ec);
  if (!ec) impl_->work_dir.clear();
}

reader::~reader() = default;

const sync_run_info& reader::sync() const { return impl_->sync; }
std::uint64_t reader::database_bytes() const { return impl_->db_bytes; }

void reader::for_each_resource_type(const std::function<void(const resource_type_row&)>& fn) const {
  c1::connector::v2::ResourceType m;
  impl_->query("SELECT id, external_id, data FROM v1_resource_types WHERE sync_id = ?1 ORDER BY id",
               "read resource types of", [&](sqlite3_stmt* st) {
                 const auto id = sqlite3_column_int64(st, 0);
                 const auto data = column_blob(st, 2);
                 impl_->decode(m, data, "resource type", id);
                 fn(resource_type_row{id, column_text(st, 1), data, m});
               });
}

void reader::for_each_resource(const std::function<void(const resource_row&)>& fn) const {
  c1::connector::v2::Resource m;
  impl_->query("SELECT id, resource_type_id, external_id, data FROM v1_resources WHERE sync_id = ?1 ORDER BY id",
               "read resources of", [&](sqlite3_stmt* st) {
                 const auto id = sqlite3_column_int64(st, 0);
                 const auto data = column_blob(st, 3);
                 impl_->decode(m, data, "resource", id);
                 fn(resource_row{id, column_text(st, 1), column_text(st, 2), data, m});
               });
}

void reader::for_each_entitlement(const std::function<void(const entitlement_row&)>& fn) const {
  c1::connector::v2::Entitlement m;
  impl_->query(
      "SELECT id, resource_type_id, resource_id, external_id, data FROM v1_entitlements WHERE sync_id = ?1 "
      "ORDER BY id",
      "read entitlements of", [&](sqlite3_stmt* st) {
        const auto id = sqlite3_column_int64(st, 0);
        const auto data = column_blob(st, 4);
        impl_->decode(m, data, "entitlement", id);
        fn(entitlement_row{id, column_text(st, 1), column_text(st, 2), column_text(st, 3), data, m});
      });
}

void reader::for_each_grant(const std::function<void(const grant_row&)>& fn) const {
  c1::connector::v2::Grant m;
  impl_->query(
      "SELECT id, resource_type_id, resource_id, entitlement_id, principal_resource_type_id, "
      "principal_resource_id, external_id, data FROM v1_grants WHERE sync_id = ?1 ORDER BY id",
      "read grants of", [&](sqlite3_stmt* st) {
        const auto id = sqlite3_column_int64(st, 0);
        const auto data = column_blob(st, 7);
        impl_->decode(m, data, "grant", id);
        fn(grant_row{id, column_text(st, 1), column_text(st, 2), column_text(st, 3), column_text(st, 4),
                     column_text(st, 5), column_text(st, 6), data, m});
      });
}

reader_stats reader::stats() const {
  reader_stats s;
  std::vector<std::string> types;
  impl_->query("SELECT external_id FROM v1_resource_types WHERE sync_id = ?1 ORDER BY id", "read resource types of",
               [&](sqlite3_stmt* st) { types.emplace_back(column_text(st, 0)); });
  s.resource_types = types.size();
  for (auto& t : types) {
    const auto n = impl_->count("SELECT count(*) FROM v1_resources WHERE sync_id = ?1 AND resource_type_id = ?2",
                                "count resources of", t);
    s.resources.emplace_back(std::move(t), n);
  }
  s.entitlements = impl_->count("SELECT count(*) FROM v1_entitlements WHERE sync_id = ?1", "count entitlements of");
  s.grants = impl_->count("SELECT count(*) FROM v1_grants WHERE sync_id = ?1", "count grants of");
  return s;
}

}  // namespace bp::c1z
