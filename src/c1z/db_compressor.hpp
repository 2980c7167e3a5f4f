#pragma once
// The compressed half of a c1z: the C1ZF magic, then one zstd frame holding the SQLite database
// (spec 1.2, 1.3). Two ways to make it:
//  * compress_database: the whole file, start to end, once the database is closed;
//  * split_compressor: the table pages while the indexes are still being built, the rest after.
// Both write to an open, empty output file and report the sizes.
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

namespace bp::c1z::detail {

struct compress_settings {
  int level = 3;
  int workers = 0;  // zstd worker threads; 0 = the calling thread
  // Asked before each chunk of the final compression: true throws c1z::cancelled.
  std::function<bool()> stop_requested;
};

struct compressed_sizes {
  std::uint64_t database_bytes = 0;
  std::uint64_t file_bytes = 0;  // magic included
};

compressed_sizes compress_database(const std::filesystem::path& db_path, int out_fd,
                                   const std::filesystem::path& out_path, const compress_settings& settings);

// Index builds append their pages after the tables and rewrite page 1 (schema, page count). So once
// no more rows change, pages 2..table_pages are final: a thread compresses them while SQLite builds
// the indexes. The frame is then [header][page 1 as a raw block][pages 2..N][index pages][checksum]:
// a raw block leaves the decoder's state untouched, so the blocks compressed before page 1 was known
// decode the same after it. extend() lets the thread go on with pages appended after the tables
// once they are final. finish() checks that every page the thread compressed still hashes the same;
// if SQLite did touch one (or the schema outgrew page 1, so it will), it returns nothing and the
// caller compresses the whole file instead.
class split_compressor {
 public:
  split_compressor(const std::filesystem::path& db_path, int out_fd, const std::filesystem::path& out_path,
                   const compress_settings& settings, std::uint32_t page_size, std::uint64_t table_pages);
  ~split_compressor();  // stops the thread
  split_compressor(const split_compressor&) = delete;
  split_compressor& operator=(const split_compressor&) = delete;

  // Pages up to `pages` are final too (index pages the bulk builder wrote after the tables): the
  // thread compresses them after the tables. Only ever grows; pages past it are compressed by finish().
  void extend(std::uint64_t pages);
  // Ends the thread's work and waits for it (finish() starts with it).
  void wait();
  // Call once the database is closed. Empty when the output is unusable (truncate it and start over).
  std::optional<compressed_sizes> finish();

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace bp::c1z::detail
