#pragma once
// Writes one index b-tree (SQLite file format 1.6) bottom-up from records in index order, appending
// its pages to the database file through a page_sink: leaves are filled one after another,
// and the entry after a full page goes up a level as the separator between it and the next page
// (index b-trees keep each entry once, interior cells included). Records too large for a cell
// spill into overflow pages as SQLite's own would. Memory: one page per level.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bp::c1z::detail {

// Numbers and writes new pages in order: page n goes to (n - 1) * page_size of the database.
// Several b-tree writers may share one sink; their pages then interleave, which SQLite allows.
class page_sink {
 public:
  page_sink(int fd, std::filesystem::path path, std::uint32_t page_size, std::uint32_t usable_size,
            std::uint32_t first_page);
  std::uint32_t write(const unsigned char* page);  // returns its number
  // Forgets the pages from `page` on (they are written again); flushes first.
  void rewind(std::uint32_t page);
  void flush();
  // One past the last page written: the database's page count so far.
  std::uint32_t next_page() const { return next_page_; }
  // The number the next write() returns, and the one after page n: SQLite never uses the page
  // holding the lock bytes at 1 GiB (file format 1.3.2), so the numbering skips it.
  std::uint32_t upcoming() const { return following(next_page_ - 1); }
  std::uint32_t following(std::uint32_t page) const { return page + 1 == lock_page_ ? page + 2 : page + 1; }
  std::uint32_t page_size() const { return page_size_; }
  std::uint32_t usable_size() const { return usable_; }

 private:
  int fd_;
  std::filesystem::path path_;
  std::uint32_t page_size_;
  std::uint32_t usable_;
  std::uint32_t next_page_;
  std::uint32_t lock_page_;
  std::vector<unsigned char> out_;  // pages not yet written, from out_first_ on
  std::uint32_t out_first_ = 0;
};

class index_btree_writer {
 public:
  explicit index_btree_writer(page_sink& sink);
  // The next record in index order.
  void add(std::string_view record);
  // Writes what is left; returns the root page. Call once.
  std::uint32_t finish();

 private:
  struct cell {
    std::size_t offset = 0;  // into level::bytes: the cell without its child pointer
    std::size_t size = 0;
    std::uint32_t child = 0;  // left child (interior levels)
  };
  struct level {
    std::string bytes;
    std::vector<cell> cells;
    std::size_t used = 0;  // header, cell pointers and cells of the page being filled
    bool has_pending = false;
    cell pending;  // did not fit: it goes up once another entry follows
  };

  void push(std::size_t lv, std::string_view body, std::uint32_t child);
  std::uint32_t flush_page(std::size_t lv, std::size_t ncells, std::uint32_t right_child);
  std::string_view body_of(const level& l, const cell& c) const { return std::string_view(l.bytes).substr(c.offset, c.size); }
  page_sink& sink_;
  std::uint32_t usable_;
  std::uint32_t max_local_;
  std::uint32_t min_local_;
  std::vector<level> levels_;
  std::string cell_buf_;
  std::vector<unsigned char> page_;
  bool finished_ = false;
};

}  // namespace bp::c1z::detail
