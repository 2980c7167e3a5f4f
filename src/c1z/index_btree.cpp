#include "index_btree.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "big_endian.hpp"
#include "index_key.hpp"
#include "posix_io.hpp"

namespace bp::c1z::detail {

namespace {

constexpr std::size_t leaf_header = 8;
constexpr std::size_t interior_header = 12;
constexpr std::size_t out_flush_bytes = 1 << 20;
// SQLite reads a cell as at least 4 bytes (cellSizePtr).
constexpr std::size_t min_cell = 4;

}  // namespace

page_sink::page_sink(int fd, std::filesystem::path path, std::uint32_t page_size, std::uint32_t usable_size,
                     std::uint32_t first_page)
    : fd_(fd),
      path_(std::move(path)),
      page_size_(page_size),
      usable_(usable_size),
      next_page_(first_page),
      lock_page_(static_cast<std::uint32_t>((std::uint64_t{1} << 30) / page_size + 1)) {
  if (usable_ < 480 || usable_ > page_size_ || first_page < 2) throw std::logic_error("page_sink: bad page geometry");
}

std::uint32_t page_sink::write(const unsigned char* data) {
  if (next_page_ == lock_page_) {  // left as zeros, as SQLite leaves it
    if (out_.empty()) out_first_ = next_page_;
    out_.resize(out_.size() + page_size_, 0);
    ++next_page_;
  }
  if (out_.empty()) out_first_ = next_page_;
  out_.insert(out_.end(), data, data + page_size_);
  if (out_.size() >= out_flush_bytes) flush();
  return next_page_++;
}

void page_sink::flush() {
  if (out_.empty()) return;
  pwrite_all(fd_, out_.data(), out_.size(), static_cast<std::uint64_t>(out_first_ - 1) * page_size_, path_);
  out_.clear();
}

void page_sink::rewind(std::uint32_t page) {
  flush();
  next_page_ = page;
}

index_btree_writer::index_btree_writer(page_sink& sink) : sink_(sink), usable_(sink.usable_size()) {
  // File format 1.6: the largest payload kept whole in an index cell, and the least kept when it spills.
  max_local_ = (usable_ - 12) * 64 / 255 - 23;
  min_local_ = (usable_ - 12) * 32 / 255 - 23;
  page_.resize(sink.page_size());
  levels_.emplace_back();
}

void index_btree_writer::add(std::string_view record) {
  if (finished_) throw std::logic_error("index_btree_writer: add after finish");
  // The cell without its child pointer: payload size, the local part, the first overflow page.
  const std::size_t payload = record.size();
  std::size_t local = payload;
  if (payload > max_local_) {
    const std::size_t k = min_local_ + (payload - min_local_) % (usable_ - 4);
    local = k <= max_local_ ? k : min_local_;
  }
  cell_buf_.resize(9 + local + 4);
  auto* c = reinterpret_cast<unsigned char*>(cell_buf_.data());
  std::size_t n = put_varint(c, payload);
  std::memcpy(c + n, record.data(), local);
  n += local;
  if (local < payload) {
    // Overflow chain, written now: each page is the next page's number, then usable - 4 bytes.
    store_be32(c + n, sink_.upcoming());
    n += 4;
    std::size_t pos = local;
    while (pos < payload) {
      const std::size_t take = std::min<std::size_t>(payload - pos, usable_ - 4);
      std::fill(page_.begin(), page_.end(), 0);
      store_be32(page_.data(), pos + take < payload ? sink_.following(sink_.upcoming()) : 0);
      std::memcpy(page_.data() + 4, record.data() + pos, take);
      sink_.write(page_.data());
      pos += take;
    }
  }
  if (n < min_cell) {  // zero padding; SQLite never reads it
    std::memset(c + n, 0, min_cell - n);
    n = min_cell;
  }
  cell_buf_.resize(n);
  push(0, cell_buf_, 0);
}

void index_btree_writer::push(std::size_t lv, std::string_view body, std::uint32_t child) {
  if (levels_.size() <= lv) levels_.emplace_back();
  const bool interior = lv > 0;
  const std::size_t cost = 2 + body.size() + (interior ? 4 : 0);
  {
    level& l = levels_[lv];
    if (l.has_pending) {
      // The page is full and more follows: the pending entry separates it from the next page.
      const std::uint32_t page = flush_page(lv, l.cells.size(), l.pending.child);
      const std::string sep(body_of(l, l.pending));
      l.has_pending = false;
      l.cells.clear();
      l.bytes.clear();
      push(lv + 1, sep, page);  // may grow levels_: l is not used after this
    }
  }
  level& l = levels_[lv];
  if (l.used == 0) l.used = interior ? interior_header : leaf_header;
  cell c{l.bytes.size(), body.size(), child};
  l.bytes.append(body);
  if (l.used + cost <= usable_ || l.cells.empty()) {
    l.cells.push_back(c);
    l.used += cost;
  } else {
    l.pending = c;
    l.has_pending = true;
  }
}

std::uint32_t index_btree_writer::flush_page(std::size_t lv, std::size_t ncells, std::uint32_t right_child) {
  level& l = levels_[lv];
  const bool interior = lv > 0;
  const std::size_t header = interior ? interior_header : leaf_header;
  std::fill(page_.begin(), page_.end(), 0);
  unsigned char* p = page_.data();
  p[0] = interior ? 0x02 : 0x0a;
  store_be16(p + 3, static_cast<std::uint32_t>(ncells));
  if (interior) store_be32(p + 8, right_child);
  std::size_t content = usable_;
  for (std::size_t i = 0; i < ncells; ++i) {
    const cell& c = l.cells[i];
    const std::size_t size = c.size + (interior ? 4 : 0);
    content -= size;
    if (interior) store_be32(p + content, c.child);
    std::memcpy(p + content + (interior ? 4 : 0), l.bytes.data() + c.offset, c.size);
    store_be16(p + header + 2 * i, static_cast<std::uint32_t>(content));
  }
  store_be16(p + 5, content == 65536 ? 0 : static_cast<std::uint32_t>(content));  // 0 stands for 65536
  l.used = 0;
  return sink_.write(p);
}

std::uint32_t index_btree_writer::finish() {
  if (finished_) throw std::logic_error("index_btree_writer: finish twice");
  finished_ = true;
  std::uint32_t below = 0;  // the last page of the level below: the right child of this level's last page
  std::uint32_t root = 0;
  for (std::size_t lv = 0; lv < levels_.size(); ++lv) {
    level& l = levels_[lv];
    if (l.has_pending) {
      // A full page and one entry after it: the page's last entry goes up, the pending one gets a
      // page of its own. Cells are at most a quarter of a page, so the full page keeps at least one.
      const cell last = l.cells.back();
      const std::uint32_t left = flush_page(lv, l.cells.size() - 1, last.child);
      const std::string sep(body_of(l, last));
      l.cells.assign(1, l.pending);
      l.has_pending = false;
      push(lv + 1, sep, left);
    }
    level& cur = levels_[lv];  // push may have reallocated levels_
    below = flush_page(lv, cur.cells.size(), below);
    cur.cells.clear();
    cur.bytes.clear();
    root = below;
  }
  return root;
}

}  // namespace bp::c1z::detail
