#include "db_compressor.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include <csignal>
#include <cstdint>
#include <random>
#include <string>

#include "baton_percipio/c1z/error.hpp"
#include "c1z/test_util.hpp"
#include "xxh64.hpp"

namespace {

using bp::c1z::detail::compress_settings;
using bp::c1z::detail::split_compressor;
using bp::c1z::detail::xxh64;
using bp::c1z::test::scratch_dir;

std::uint64_t hash(std::string_view s) {
  xxh64 h;
  h.update(s.data(), s.size());
  return h.digest();
}

// Compressible, not trivial: words from a small vocabulary with random numbers.
std::string sample_bytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  static const char* words[] = {"course:", "user:", "completed", "in_progress", "bid:g:", "\x01\x02\x03"};
  std::string s;
  while (s.size() < size) {
    s += words[rng() % 6];
    s += std::to_string(rng() % 100000);
  }
  s.resize(size);
  return s;
}

// A "database" of sample bytes whose page 1 is a leaf table page, as SQLite's is while the schema
// fits it (the split needs that).
std::string sample_db(std::size_t size, unsigned seed, unsigned char page1_type = 0x0D) {
  std::string s = sample_bytes(size, seed);
  s[100] = static_cast<char>(page1_type);
  return s;
}

using bp::c1z::test::count_entries;
using bp::c1z::test::read_file;
using bp::c1z::test::write_file;

// How many of this process's descriptors refer to path.
std::size_t open_descriptors_of(const std::filesystem::path& path) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(e.path(), ec) == path) ++n;
  }
  return n;
}

// Overwrites bytes in place, as SQLite does (no truncation under the reading thread).
void patch_file(const std::filesystem::path& p, std::uint64_t offset, std::string_view data) {
  const int fd = ::open(p.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset)) == static_cast<ssize_t>(data.size()));
  ::close(fd);
}

// Decompresses a c1z body with libzstd, which verifies the content checksum.
std::string decompress(std::string_view c1z) {
  REQUIRE(c1z.size() > 5);
  const std::string_view frame = c1z.substr(5);
  CHECK(ZSTD_findFrameCompressedSize(frame.data(), frame.size()) == frame.size());  // exactly one frame
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  std::string out;
  std::string buf(1 << 16, '\0');
  ZSTD_inBuffer in{frame.data(), frame.size(), 0};
  std::size_t rc = 1;
  while (in.pos < in.size || rc != 0) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(d.get(), &o, &in);
    REQUIRE_MESSAGE(!ZSTD_isError(rc), ZSTD_getErrorName(rc));
    out.append(buf.data(), o.pos);
    if (o.pos == 0 && in.pos == in.size && rc != 0) FAIL("truncated frame");
  }
  return out;
}

}  // namespace

TEST_CASE("xxh64 matches the reference values and zstd's content checksum") {
  CHECK(hash("") == 0xEF46DB3751D8E999ULL);
  CHECK(hash("abc") == 0x44BC2CF5AD770999ULL);
  const std::string big = sample_bytes(1'000'003, 7);
  // Streaming in uneven pieces gives the one-shot value.
  xxh64 pieces;
  for (std::size_t off = 0, step = 1; off < big.size(); off += step, step = step * 3 % 997 + 1) {
    pieces.update(big.data() + off, std::min(step, big.size() - off));
  }
  CHECK(pieces.digest() == hash(big));
  // zstd stores the low 32 bits, little endian, as the frame's last 4 bytes.
  std::string frame(ZSTD_compressBound(big.size()), '\0');
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> c(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, 1);
  const std::size_t n = ZSTD_compress2(c.get(), frame.data(), frame.size(), big.data(), big.size());
  REQUIRE(!ZSTD_isError(n));
  std::uint32_t stored = 0;
  for (int i = 3; i >= 0; --i) stored = stored << 8 | static_cast<unsigned char>(frame[n - 4 + static_cast<std::size_t>(i)]);
  CHECK(stored == static_cast<std::uint32_t>(hash(big)));
}

TEST_CASE("split compression: pages 2..N early, the rest later, one frame equal to the final file") {
  scratch_dir dir;
  const auto db = dir / "db";
  const auto out = dir / "out.c1z";
  constexpr std::uint32_t page = 65536;
  for (int workers : {0, 2}) {
    CAPTURE(workers);
    const std::string tables = sample_db(page * 9, 1);
    write_file(db, tables);
    const int fd = ::open(out.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    std::optional<bp::c1z::detail::compressed_sizes> sizes;
    std::string final_db;
    {
      split_compressor split(db, fd, out, compress_settings{3, workers, {}}, page, 9);
      // Meanwhile "SQLite" rewrites page 1 and appends index pages.
      const std::string page1 = sample_db(page, 2);
      const std::string index_pages = sample_bytes(page * 3, 3);
      patch_file(db, 0, page1);
      patch_file(db, tables.size(), index_pages);
      final_db = page1 + tables.substr(page) + index_pages;
      sizes = split.finish();
    }
    ::close(fd);
    REQUIRE(sizes.has_value());
    const std::string file = read_file(out);
    CHECK(sizes->file_bytes == file.size());
    CHECK(sizes->database_bytes == final_db.size());
    CHECK(file.substr(0, 5) == std::string("C1ZF\0", 5));
    CHECK(static_cast<unsigned char>(file[9]) == 0x04);  // checksum, no content size, as Go writes
    CHECK(decompress(file) == final_db);
  }
}

TEST_CASE("split compression gives up when a table page changed after it was compressed") {
  scratch_dir dir;
  const auto db = dir / "db";
  const auto out = dir / "out.c1z";
  constexpr std::uint32_t page = 4096;
  const std::string tables = sample_db(page * 40, 4);
  write_file(db, tables);
  const int fd = ::open(out.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  std::optional<bp::c1z::detail::compressed_sizes> sizes;
  {
    split_compressor split(db, fd, out, compress_settings{3, 0, {}}, page, 40);
    split.wait();
    patch_file(db, page * 17 + 5, "changed");  // a free page reused, say
    patch_file(db, tables.size(), sample_bytes(page, 5));
    sizes = split.finish();
  }
  ::close(fd);
  CHECK_FALSE(sizes.has_value());
}

TEST_CASE("split compression does not start when the schema has outgrown page 1") {
  scratch_dir dir;
  const auto db = dir / "db";
  const auto out = dir / "out.c1z";
  write_file(db, sample_db(4096 * 8, 9, 0x05));  // page 1 an interior table page
  const int fd = ::open(out.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  std::optional<bp::c1z::detail::compressed_sizes> sizes;
  {
    split_compressor split(db, fd, out, compress_settings{3, 0, {}}, 4096, 8);
    sizes = split.finish();
  }
  ::close(fd);
  CHECK_FALSE(sizes.has_value());
  CHECK(std::filesystem::file_size(out) == 5);  // the magic only: nothing was compressed
}

TEST_CASE("split compression stops cleanly when abandoned before finish") {
  scratch_dir dir;
  const auto db = dir / "db";
  const auto out = dir / "out.c1z";
  const std::string tables = sample_db(65536 * 32, 6);
  write_file(db, tables);
  const int fd = ::open(out.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  const std::size_t threads_before = count_entries("/proc/self/task");
  REQUIRE(open_descriptors_of(db) == 0);
  {
    split_compressor split(db, fd, out, compress_settings{3, 2, {}}, 65536, 32);
    CHECK(open_descriptors_of(db) == 1);  // its own read descriptor: the check below can see one
  }
  // What an abandoned compressor leaves: nothing running, nothing open, no file of its own, the
  // caller's output descriptor still open (the caller truncates or deletes the output).
  CHECK(count_entries("/proc/self/task") == threads_before);  // its thread and zstd's workers are gone
  CHECK(open_descriptors_of(db) == 0);
  CHECK(::fcntl(fd, F_GETFD) != -1);
  CHECK(read_file(out).substr(0, 5) == std::string("C1ZF\0", 5));
  ::close(fd);
  CHECK(read_file(db) == tables);  // the database is only read
  CHECK(count_entries(dir.path()) == 2);  // db and out: no file of its own
}

TEST_CASE("split compression: write errors, at the start or in the thread, surface naming the file") {
  scratch_dir dir;
  const auto db = dir / "db";
  const auto out = dir / "out.c1z";
  write_file(db, sample_db(65536 * 4, 8));
  write_file(out, "");
  auto expect_error = [&](int fd) {
    bool threw = false;
    try {
      split_compressor split(db, fd, out, compress_settings{3, 0, {}}, 65536, 4);
      (void)split.finish();
    } catch (const bp::c1z::error& e) {
      threw = true;
      CHECK(std::string(e.what()).find(out.string()) != std::string::npos);
    }
    CHECK(threw);
  };
  SUBCASE("the magic (constructor)") {
    const int fd = ::open(out.c_str(), O_RDONLY);  // every write fails (EBADF)
    REQUIRE(fd >= 0);
    expect_error(fd);
    ::close(fd);
  }
  SUBCASE("the blocks (thread): the file size limit is hit after the frame header") {
    const int fd = ::open(out.c_str(), O_RDWR);
    REQUIRE(fd >= 0);
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
    rlimit small = old;
    small.rlim_cur = 4096;  // magic and frame header fit, page 1's slot and the blocks do not
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    expect_error(fd);
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    ::close(fd);
  }
}
