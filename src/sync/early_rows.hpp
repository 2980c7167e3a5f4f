#pragma once
// Report rows that arrive before users and courses are listed, when they cannot be mapped yet. They
// wait here so the report download never stalls (a stalled download holds a connection open,
// unread, for as long as a large tenant's users take to list): in memory up to a budget, then in an
// unlinked, private (0600) temporary file. Rows come back in arrival order.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "baton_percipio/percipio/model.hpp"

namespace bp::sync::detail {

class early_rows {
 public:
  // `dir`: where the temporary file goes (only when the budget is exceeded).
  early_rows(std::filesystem::path dir, std::size_t memory_rows);
  ~early_rows();
  early_rows(const early_rows&) = delete;
  early_rows& operator=(const early_rows&) = delete;

  // Throws sync_error (output, naming the file's directory) when the temporary file fails.
  void add(std::span<const percipio::report_row> rows);
  // The next chunk of waiting rows, oldest first, into `out`; false when none are left. Rows handed
  // out are forgotten.
  bool next(std::vector<percipio::report_row>& out);
  // Forgets every waiting row (a failed download is delivered again from its start).
  void clear();

  std::uint64_t size() const { return spilled_ - read_ + memory_.size(); }
  bool empty() const { return size() == 0; }
  std::uint64_t spilled() const { return spilled_total_; }  // rows that went to the file, all in all

 private:
  void open_file();

  std::filesystem::path dir_;
  std::size_t memory_rows_;
  std::vector<percipio::report_row> memory_;  // rows after the spilled ones
  int fd_ = -1;
  std::uint64_t spilled_ = 0;  // rows in the file
  std::uint64_t read_ = 0;     // rows of the file handed out
  std::uint64_t spilled_total_ = 0;
};

}  // namespace bp::sync::detail
