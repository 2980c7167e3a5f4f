#include "db_compressor.hpp"

#include <fcntl.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "baton_percipio/c1z/error.hpp"
#include "posix_io.hpp"
#include "schema.hpp"
#include "xxh64.hpp"

namespace bp::c1z::detail {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t chunk_bytes = 1 << 20;
constexpr std::uint64_t magic_bytes = sizeof magic;
constexpr unsigned char checksum_flag = 0x04;  // Frame_Header_Descriptor bit 2

using cctx_ptr = std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)>;

cctx_ptr make_cctx(const compress_settings& s, bool checksum, const fs::path& db_path) {
  cctx_ptr cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (!cctx) throw_error("compress", db_path, "out of memory");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, std::clamp(s.level, 1, 19));
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, checksum ? 1 : 0);
  // Worker threads still produce one frame; ignored when libzstd lacks multithreading.
  if (s.workers > 0) ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_nbWorkers, s.workers);
  // Readers reject windows above 128 MiB (spec 1.3): levels 1..19 use at most 8 MiB and long-distance
  // matching stays off, so the frame's window is always small enough.
  return cctx;
}

// Feeds input to the stream with the given directive until it is consumed (continue) or fully
// flushed (flush, end), handing every output chunk to sink.
template <class Sink>
void feed(ZSTD_CCtx* cctx, std::vector<char>& obuf, const char* data, std::size_t size, ZSTD_EndDirective mode,
          const fs::path& db_path, Sink&& sink) {
  ZSTD_inBuffer input{data, size, 0};
  for (;;) {
    ZSTD_outBuffer output{obuf.data(), obuf.size(), 0};
    const std::size_t remaining = ZSTD_compressStream2(cctx, &output, &input, mode);
    if (ZSTD_isError(remaining)) throw_error("compress", db_path, ZSTD_getErrorName(remaining));
    if (output.pos != 0) sink(obuf.data(), output.pos);
    if (mode == ZSTD_e_continue ? input.pos == input.size : remaining == 0) return;
  }
}

// The split layout needs the frame header libzstd writes for a stream without a pledged size:
// magic, a zero descriptor (no content size, which would leave out page 1; no single-segment
// window; no dictionary; no checksum yet) and a window of at least 128 KiB, so page 1 fits one raw
// block (RFC 8878, 3.1.1.2.4; SQLite pages are at most 64 KiB).
constexpr std::size_t frame_header_bytes = 6;

bool is_plain_frame_header(const unsigned char* h) {
  const unsigned char frame_magic[4] = {0x28, 0xB5, 0x2F, 0xFD};
  const int window_log = 10 + (h[5] >> 3);
  return std::equal(frame_magic, frame_magic + 4, h) && h[4] == 0 && window_log >= 17;
}

}  // namespace

compressed_sizes compress_database(const fs::path& db_path, int out_fd, const fs::path& out_path,
                                   const compress_settings& settings) {
  fd_guard in(::open(db_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) throw_errno("open", db_path, errno);
  compressed_sizes sizes;
  write_all(out_fd, magic, sizeof magic, out_path);
  sizes.file_bytes = sizeof magic;
  auto cctx = make_cctx(settings, true, db_path);
  std::vector<char> ibuf(chunk_bytes);
  std::vector<char> obuf(ZSTD_CStreamOutSize() * 4);
  auto sink = [&](const char* p, std::size_t n) {
    write_all(out_fd, p, n, out_path);
    sizes.file_bytes += n;
  };
  for (;;) {
    if (settings.stop_requested && settings.stop_requested()) throw cancelled();
    const std::size_t n = read_some(in.get(), ibuf.data(), ibuf.size(), db_path);
    if (n == 0) break;
    sizes.database_bytes += n;
    feed(cctx.get(), obuf, ibuf.data(), n, ZSTD_e_continue, db_path, sink);
  }
  feed(cctx.get(), obuf, nullptr, 0, ZSTD_e_end, db_path, sink);
  return sizes;
}

struct split_compressor::state {
  fs::path db_path;
  fs::path out_path;
  int out_fd = -1;
  fd_guard db;
  std::uint32_t page = 0;
  std::uint64_t table_pages = 0;  // what the thread compressed, once it ended
  std::mutex mu;
  std::condition_variable more;
  std::uint64_t final_pages = 0;  // guarded by mu: pages the thread may compress
  bool closed = false;            // guarded by mu: no more extend()
  bool worker_done = false;       // guarded by mu: the thread has nothing left to do
  cctx_ptr cctx{nullptr, &ZSTD_freeCCtx};
  std::vector<char> obuf;
  std::string header;          // the frame header, as the compressor wrote it
  std::uint64_t block_pos = 0; // where the next compressed block goes
  std::uint64_t tables_hash = 0;
  bool unusable = false;       // the frame header is not one the layout allows
  std::atomic<bool> stop{false};
  std::function<bool()> stop_requested;  // the caller's stop request, asked by finish()
  std::exception_ptr error;
  std::thread worker;

  // Where page 1's raw block goes: right after the frame header.
  static constexpr std::uint64_t page1_pos = magic_bytes + frame_header_bytes;

  // The compressor's output: its frame header goes after the magic, its blocks after page 1's slot.
  void sink(const char* p, std::size_t n) {
    if (unusable) return;
    if (header.size() < frame_header_bytes) {
      const std::size_t take = std::min(n, frame_header_bytes - header.size());
      header.append(p, take);
      p += take;
      n -= take;
      if (header.size() < frame_header_bytes) return;
      if (!is_plain_frame_header(reinterpret_cast<const unsigned char*>(header.data()))) {
        unusable = true;
        return;
      }
      pwrite_all(out_fd, header.data(), header.size(), magic_bytes, out_path);
      block_pos = page1_pos + 3 + page;
    }
    if (n == 0) return;
    pwrite_all(out_fd, p, n, block_pos, out_path);
    block_pos += n;
  }

  template <class Each>
  std::uint64_t read_range(std::uint64_t from, std::uint64_t to, Each&& each) {
    std::vector<char> buf(chunk_bytes);
    std::uint64_t off = from;
    while (off < to) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), to - off));
      const std::size_t n = pread_some(db.get(), buf.data(), want, off, db_path);
      if (n == 0) break;
      each(buf.data(), n);
      off += n;
      if (unusable || stop.load(std::memory_order_relaxed)) break;
    }
    return off;
  }

  // No more extend(); with `halt`, the thread also stops early. Wakes it either way.
  void close_input(bool halt) {
    {
      std::lock_guard lock(mu);
      closed = true;
      if (halt) stop = true;
    }
    more.notify_all();
  }

  // Compresses pages 2.. up to final_pages, waiting for extend() until closed.
  void compress_tables() {
    xxh64 h;
    std::uint64_t done = 1;
    for (;;) {
      std::uint64_t upto;
      {
        std::unique_lock lock(mu);
        more.wait(lock, [&] { return closed || final_pages > done || stop.load(); });
        upto = final_pages;
        if (upto <= done) break;
      }
      const std::uint64_t end = upto * page;
      const std::uint64_t got = read_range(done * page, end, [&](const char* p, std::size_t n) {
        h.update(p, n);
        feed(cctx.get(), obuf, p, n, ZSTD_e_continue, db_path, [&](const char* o, std::size_t k) { sink(o, k); });
      });
      if (unusable || stop.load()) return;
      if (got != end) throw_error("compress", db_path, "the database is shorter than its page count");
      done = upto;
    }
    if (unusable || stop.load()) return;
    feed(cctx.get(), obuf, nullptr, 0, ZSTD_e_flush, db_path, [&](const char* o, std::size_t k) { sink(o, k); });
    tables_hash = h.digest();
    table_pages = done;
  }
};

split_compressor::split_compressor(const fs::path& db_path, int out_fd, const fs::path& out_path,
                                   const compress_settings& settings, std::uint32_t page_size,
                                   std::uint64_t table_pages)
    : s_(std::make_unique<state>()) {
  auto& s = *s_;
  s.db_path = db_path;
  s.out_path = out_path;
  s.out_fd = out_fd;
  s.page = page_size;
  s.final_pages = table_pages;
  s.stop_requested = settings.stop_requested;
  s.db = fd_guard(::open(db_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (s.db.get() < 0) throw_errno("open", db_path, errno);
  s.cctx = make_cctx(settings, false, db_path);  // the checksum must cover page 1: added by finish()
  s.obuf.resize(ZSTD_CStreamOutSize() * 4);
  pwrite_all(out_fd, magic, sizeof magic, 0, out_path);
  // The schema table's root is page 1. With small pages it has already grown into child pages
  // among the tables, which every CREATE INDEX rewrites: page 1 is then an interior page, not a
  // leaf table page (0x0D at offset 100, SQLite file format 1.6), and the split cannot work.
  unsigned char page1_type = 0;
  if (pread_some(s.db.get(), &page1_type, 1, 100, db_path) != 1 || page1_type != 0x0D) {
    s.unusable = true;
    return;
  }
  s.worker = std::thread([&s] {
    try {
      s.compress_tables();
    } catch (...) {
      s.error = std::current_exception();
    }
    {
      std::lock_guard lock(s.mu);
      s.worker_done = true;
    }
    s.more.notify_all();
  });
}

split_compressor::~split_compressor() {
  s_->close_input(true);
  if (s_->worker.joinable()) s_->worker.join();
}

void split_compressor::extend(std::uint64_t pages) {
  {
    std::lock_guard lock(s_->mu);
    if (s_->closed || pages <= s_->final_pages) return;
    s_->final_pages = pages;
  }
  s_->more.notify_all();
}

void split_compressor::wait() {
  s_->close_input(false);
  if (s_->worker.joinable()) s_->worker.join();
}

std::optional<compressed_sizes> split_compressor::finish() {
  auto& s = *s_;
  if (s.stop_requested && s.worker.joinable()) {
    // The thread may still have index pages to compress: a stop request is asked meanwhile, not
    // only once it is done.
    s.close_input(false);
    for (;;) {
      {
        std::unique_lock lock(s.mu);
        if (s.more.wait_for(lock, std::chrono::milliseconds(50), [&] { return s.worker_done; })) break;
      }
      if (s.stop_requested()) {
        s.close_input(true);
        s.worker.join();
        throw cancelled();
      }
    }
  }
  wait();
  if (s.error) std::rethrow_exception(s.error);
  if (s.unusable || s.header.size() < frame_header_bytes) return std::nullopt;
  auto sink = [&](const char* o, std::size_t k) { s.sink(o, k); };

  // One pass over the final file. Page 1 goes in as a raw block (Block_Header: Last_Block 0,
  // Block_Type 0, Block_Size); pages 2..N must still hash as they did when the thread compressed
  // them; the pages the index builds added finish the frame. Everything feeds the content checksum.
  xxh64 all;
  xxh64 tables;
  std::vector<char> raw(3 + s.page);
  const std::uint32_t bh = s.page << 3;
  raw[0] = static_cast<char>(bh & 0xFF);
  raw[1] = static_cast<char>((bh >> 8) & 0xFF);
  raw[2] = static_cast<char>((bh >> 16) & 0xFF);
  if (pread_some(s.db.get(), raw.data() + 3, s.page, 0, s.db_path) != s.page) {
    throw_error("compress", s.db_path, "cannot read page 1");
  }
  all.update(raw.data() + 3, s.page);
  const std::uint64_t tables_end = s.table_pages * s.page;
  const std::uint64_t seen = s.read_range(s.page, tables_end, [&](const char* p, std::size_t n) {
    all.update(p, n);
    tables.update(p, n);
  });
  if (seen != tables_end || tables.digest() != s.tables_hash) return std::nullopt;
  pwrite_all(s.out_fd, raw.data(), raw.size(), s.page1_pos, s.out_path);
  const std::uint64_t db_end = s.read_range(tables_end, UINT64_MAX, [&](const char* p, std::size_t n) {
    if (s.stop_requested && s.stop_requested()) throw cancelled();
    all.update(p, n);
    feed(s.cctx.get(), s.obuf, p, n, ZSTD_e_continue, s.db_path, sink);
  });
  feed(s.cctx.get(), s.obuf, nullptr, 0, ZSTD_e_end, s.db_path, sink);

  const std::uint64_t sum = all.digest();
  const unsigned char le[4] = {static_cast<unsigned char>(sum), static_cast<unsigned char>(sum >> 8),
                               static_cast<unsigned char>(sum >> 16), static_cast<unsigned char>(sum >> 24)};
  pwrite_all(s.out_fd, le, sizeof le, s.block_pos, s.out_path);
  const unsigned char fhd = static_cast<unsigned char>(s.header[4]) | checksum_flag;
  pwrite_all(s.out_fd, &fhd, 1, magic_bytes + 4, s.out_path);

  compressed_sizes sizes;
  sizes.database_bytes = db_end;
  sizes.file_bytes = s.block_pos + sizeof le;
  return sizes;
}

}  // namespace bp::c1z::detail
