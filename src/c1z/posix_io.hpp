#pragma once
// Thin POSIX helpers shared by writer and reader: every failure becomes a bp::c1z::error naming the
// operation and the path.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace bp::c1z::detail {

// "c1z: OP PATH: WHAT", the message of every c1z::error about a file.
std::string error_text(std::string_view op, const std::filesystem::path& path, std::string_view what);
[[noreturn]] void throw_errno(std::string_view op, const std::filesystem::path& path, int err);
[[noreturn]] void throw_error(std::string_view op, const std::filesystem::path& path, std::string_view what);

// RAII file descriptor.
class fd_guard {
 public:
  fd_guard() = default;
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard();
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  fd_guard(fd_guard&& o) noexcept : fd_(o.release()) {}
  fd_guard& operator=(fd_guard&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  void reset() noexcept;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_ = -1;
};

void write_all(int fd, const void* data, std::size_t size, const std::filesystem::path& path);
// Reads up to size bytes; returns the count (0 at end of file).
std::size_t read_some(int fd, void* data, std::size_t size, const std::filesystem::path& path);
// Positioned I/O: pread_some returns the count read (0 at end of file); pwrite_all writes everything.
std::size_t pread_some(int fd, void* data, std::size_t size, std::uint64_t offset, const std::filesystem::path& path);
void pwrite_all(int fd, const void* data, std::size_t size, std::uint64_t offset, const std::filesystem::path& path);
// mkdtemp(parent/prefixXXXXXX).
std::filesystem::path make_temp_dir(const std::filesystem::path& parent, std::string_view prefix);
void fsync_dir(const std::filesystem::path& dir);

}  // namespace bp::c1z::detail
