#include "early_rows.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "baton_percipio/sync/run.hpp"

namespace bp::sync::detail {
namespace {

static_assert(std::is_trivially_copyable_v<percipio::report_row>);
constexpr std::size_t row_bytes = sizeof(percipio::report_row);
constexpr std::size_t chunk_rows = 64 * 1024;

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& dir, int err) {
  throw sync_error(failure_kind::output, "report rows waiting for users: " + what + " in " + dir.string() +
                                             ": " + std::strerror(err));
}

}  // namespace

early_rows::early_rows(std::filesystem::path dir, std::size_t memory_rows)
    : dir_(dir.empty() ? std::filesystem::path(".") : std::move(dir)), memory_rows_(std::max<std::size_t>(memory_rows, 1)) {}

early_rows::~early_rows() {
  if (fd_ >= 0) ::close(fd_);
}

void early_rows::open_file() {
  // An unnamed file: nothing to clean up after a crash, nothing another process can open.
  fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ >= 0) return;
  std::string tmpl = (dir_ / ".baton-percipio-rows-XXXXXX").string();
  fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd_ < 0) fail("cannot create a temporary file", dir_, errno);
  ::unlink(tmpl.c_str());
  if (::fchmod(fd_, 0600) != 0) fail("cannot chmod a temporary file", dir_, errno);
}

void early_rows::add(std::span<const percipio::report_row> rows) {
  // Rows go to the file once the memory budget is used, and keep going there while the file holds
  // rows, so the order stays the arrival order (the file before memory).
  if (spilled_ == read_ && memory_.size() + rows.size() <= memory_rows_) {
    memory_.insert(memory_.end(), rows.begin(), rows.end());
    return;
  }
  if (fd_ < 0) open_file();
  std::vector<percipio::report_row> all;
  std::span<const percipio::report_row> out = rows;
  if (!memory_.empty()) {  // the first spill: memory first, to keep the order
    all = std::move(memory_);
    memory_.clear();
    all.insert(all.end(), rows.begin(), rows.end());
    out = all;
  }
  const char* p = reinterpret_cast<const char*>(out.data());
  std::size_t left = out.size() * row_bytes;
  off_t at = static_cast<off_t>(spilled_ * row_bytes);
  while (left > 0) {
    const ssize_t n = ::pwrite(fd_, p, left, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write a temporary file", dir_, errno);
    }
    p += n;
    at += n;
    left -= static_cast<std::size_t>(n);
  }
  spilled_ += out.size();
  spilled_total_ += out.size();
}

bool early_rows::next(std::vector<percipio::report_row>& out) {
  out.clear();
  if (read_ < spilled_) {
    const std::uint64_t n = std::min<std::uint64_t>(chunk_rows, spilled_ - read_);
    out.resize(n);
    char* p = reinterpret_cast<char*>(out.data());
    std::size_t left = n * row_bytes;
    off_t at = static_cast<off_t>(read_ * row_bytes);
    while (left > 0) {
      const ssize_t got = ::pread(fd_, p, left, at);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail("cannot read back a temporary file", dir_, got < 0 ? errno : EIO);
      p += got;
      at += got;
      left -= static_cast<std::size_t>(got);
    }
    read_ += n;
    if (read_ == spilled_) {
      // All read: start the file over for any later spill.
      read_ = spilled_ = 0;
      if (::ftruncate(fd_, 0) != 0) fail("cannot truncate a temporary file", dir_, errno);
    }
    return true;
  }
  if (memory_.empty()) return false;
  out.swap(memory_);
  memory_.clear();
  return true;
}

void early_rows::clear() {
  memory_.clear();
  memory_.shrink_to_fit();
  if (fd_ >= 0 && spilled_ > 0 && ::ftruncate(fd_, 0) != 0) fail("cannot truncate a temporary file", dir_, errno);
  read_ = spilled_ = 0;
}

}  // namespace bp::sync::detail
