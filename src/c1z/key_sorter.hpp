#pragma once
// Sorts index keys (byte strings, memcmp order) within a memory budget: keys collect in memory;
// when they reach the budget they are sorted and written as a run to a scratch file; the final
// order merges the runs. With no run the keys never leave memory.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "posix_io.hpp"

namespace bp::c1z::detail {

class key_sorter {
 public:
  // scratch: the run file, created only if needed and removed by the destructor.
  key_sorter(std::filesystem::path scratch, std::size_t budget_bytes);
  ~key_sorter();
  key_sorter(const key_sorter&) = delete;
  key_sorter& operator=(const key_sorter&) = delete;

  void add(std::string_view key);
  // Ends the input; next() then yields the keys in order. The view lives until the next call.
  void sort();
  bool next(std::string_view& key);

  std::size_t runs() const { return runs_.size(); }

 private:
  struct entry {
    std::uint64_t prefix;  // 8 key bytes past the prefix all keys share, big-endian: most comparisons end here
    std::uint32_t offset;
    std::uint32_t size;
  };
  struct run {
    std::uint64_t begin = 0, end = 0;
  };
  struct run_reader;

  void sort_memory();
  void spill();
  std::string_view key_of(const entry& e) const { return std::string_view(arena_).substr(e.offset, e.size); }

  std::filesystem::path scratch_;
  std::size_t budget_;
  std::string arena_;
  std::vector<entry> entries_;
  std::vector<run> runs_;
  fd_guard file_;
  std::uint64_t file_end_ = 0;
  std::size_t next_entry_ = 0;
  std::vector<std::unique_ptr<run_reader>> readers_;
  std::vector<run_reader*> heap_;
  bool sorted_ = false;
  bool merging_ = false;
};

}  // namespace bp::c1z::detail
