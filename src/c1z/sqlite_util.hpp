#pragma once
// Pieces of checked SQLite use shared by writer and reader: every bind, step, reset and finalize is
// checked by the caller, and a failure becomes a c1z::error naming what failed. A row that did not
// make it into the database must never turn into a file that merely lacks it.
#include <sqlite3.h>

#include <functional>
#include <string>

namespace bp::c1z::detail {

// The text for a failed call that returned rc: the connection's own message when it describes this
// failure (it names the constraint or the column), else SQLite's generic text for the code.
inline std::string sqlite_message(sqlite3* db, int rc) {
  if (db != nullptr && (sqlite3_errcode(db) & 0xff) == (rc & 0xff)) return sqlite3_errmsg(db);
  return sqlite3_errstr(rc);
}

// Long statements (index builds) ask stop() every few thousand VM steps; true interrupts them
// (SQLITE_INTERRUPT). nullptr removes the handler. *stop must outlive it.
inline void set_stop_handler(sqlite3* db, const std::function<bool()>* stop) {
  if (stop == nullptr) {
    sqlite3_progress_handler(db, 0, nullptr, nullptr);
    return;
  }
  sqlite3_progress_handler(
      db, 10000, [](void* p) -> int { return (*static_cast<const std::function<bool()>*>(p))() ? 1 : 0; },
      const_cast<std::function<bool()>*>(stop));
}

// A prepared statement finalized on scope exit. The destructor cannot report a failure, so it only
// does the work on paths that are already failing; the normal path calls finalize() and checks it.
class statement {
 public:
  statement() = default;
  ~statement() { sqlite3_finalize(st_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  sqlite3_stmt* get() const { return st_; }
  sqlite3_stmt** out() { return &st_; }  // for sqlite3_prepare_*
  // SQLITE_OK, or the error of the statement's last evaluation.
  int finalize() {
    const int rc = sqlite3_finalize(st_);
    st_ = nullptr;
    return rc;
  }

 private:
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace bp::c1z::detail
