#pragma once
// Writes one full sync into a baton v0.3.15 `.c1z` (spec c1z-format.md): a private working SQLite
// database with the exact v1 schema, filled in batched transactions, then finish() compresses it behind
// the C1ZF header into a temporary file next to the destination and renames it into place.
// Used from one thread. Errors throw bp::c1z::error; without finish() nothing reaches the destination.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "baton_percipio/c1z/error.hpp"

namespace bp::c1z {

struct writer_options {
  std::filesystem::path destination;
  std::filesystem::path temp_dir;  // parent of the working directory; empty = destination's directory
  std::size_t batch_size = 10000;  // rows per transaction
  std::uint32_t file_mode = 0600;  // mode of the final file
  // Level 1: on the sync's database both faster and no larger than 3 (BENCHMARKS.md); any level reads the same.
  int zstd_level = 1;
  // Compression threads during finish(); 0 = one thread (with overlap_compression, the one that
  // compresses the tables during the index builds). At level 1 one thread keeps up with the index
  // builds; two workers slowed them down and cost M about 17 MB of peak RSS (BENCHMARKS.md).
  int zstd_workers = 0;
  // SQLite page cache of the working database. Small on purpose: the OS page cache holds the file
  // anyway, and a large SQLite cache made inserts and finish() slower (BENCHMARKS.md) and RSS larger.
  std::size_t cache_mib = 16;
  // Helper threads of SQLite's sorter for the index builds (PRAGMA threads). Each sorts in a
  // buffer as large as the page cache.
  int sort_threads = 0;
  // The caller never adds the same external id twice to resources, entitlements or grants (nor a
  // grant again after removing it). Then their unique indexes are built by finish() (or
  // index_objects()/index_grants()): inserts become appends, several times faster (BENCHMARKS.md).
  // finish() fails if a duplicate slipped through; the add_* calls return true until then.
  bool ids_unique = false;
  // SQLite page size of the database (a power of two, 512 to 65536). baton-sdk writes 4096; any
  // size reads the same.
  std::uint32_t page_size = 4096;
  // finish() compresses the table pages on a thread while the indexes are built, and falls back
  // to compressing the whole file when SQLite did rewrite one of them (BENCHMARKS.md).
  bool overlap_compression = true;
  // finish(), index_objects() and index_grants() write the missing indexes' b-tree pages
  // themselves (one scan per table; keys already in index order go straight to pages, the others
  // are sorted) instead of SQLite's CREATE INDEX: same schema, same entries, about twice as fast
  // (BENCHMARKS.md). False: SQLite builds them.
  bool bulk_indexes = true;
  // Memory for the keys of the indexes that need sorting (all of one table at once); beyond it,
  // sorted runs go to a scratch file in the working directory.
  std::size_t index_sort_mib = 32;
  std::function<std::chrono::system_clock::time_point()> clock;  // default: system_clock::now
  // Asked between the steps of finish() and while the indexes are built: true abandons
  // finish() (it throws c1z::cancelled; the destination keeps its previous content).
  std::function<bool()> stop_requested;
};

// Rows stored so far (duplicates that were ignored are not counted).
struct writer_counts {
  std::uint64_t resource_types = 0;
  std::uint64_t resources = 0;
  std::uint64_t entitlements = 0;
  std::uint64_t grants = 0;
};

struct finish_result {
  std::uint64_t database_bytes = 0;  // uncompressed SQLite file
  std::uint64_t file_bytes = 0;      // the .c1z written
  double index_seconds = 0;          // building the deferred indexes (the table pages compress meanwhile)
  double compress_seconds = 0;       // the rest of the compression, fsync and rename
  bool compressed_during_indexes = false;  // the overlap worked (no fallback to the whole file)
};

class writer {
 public:
  explicit writer(writer_options options);
  ~writer();  // abort() unless finish() succeeded
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  // Fresh KSUID of this sync run.
  const std::string& sync_id() const;

  // Each add_* returns false when a row with the same external id already exists (the first copy wins).
  bool add_resource_type(std::string_view id, std::string_view data);
  bool add_resource(std::string_view type, std::string_view id, std::string_view data);
  bool add_entitlement(std::string_view resource_type, std::string_view resource_id, std::string_view entitlement_id,
                       std::string_view data);
  bool add_grant(std::string_view resource_type, std::string_view resource_id, std::string_view entitlement_id,
                 std::string_view principal_type, std::string_view principal_id, std::string_view grant_id,
                 std::string_view data);

  // Resources and entitlements are complete: builds their indexes now (with ids_unique, the unique
  // ones too), which finish() would otherwise build after the last grant. Rows added to them later
  // are still indexed, one by one. Not interruptible by stop_requested.
  void index_objects();

  // Every grant is added (more may follow, e.g. after remove_principal_grants): builds the grants'
  // indexes now, which finish() would otherwise build. Rows added later are indexed one by one.
  // Not interruptible by stop_requested.
  void index_grants();

  // Deletes every grant of this sync whose principal is (type, one of ids); returns how many. Finds
  // them through the principal index (call it after index_grants(), or each id scans the table),
  // then deletes them in rowid order, so the table and the three grant indexes whose keys follow
  // the rowid order (grants written in index order) are walked once instead of at random.
  std::uint64_t remove_grants_of(std::string_view principal_type, std::span<const std::string_view> principal_ids);

  writer_counts counts() const;

  // Records the finished sync run, compresses, fsyncs and renames over the destination. On failure the
  // destination is untouched, temporary files are removed and the writer is unusable.
  finish_result finish();
  // Discards everything; the destination is untouched. Idempotent.
  void abort() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::c1z
