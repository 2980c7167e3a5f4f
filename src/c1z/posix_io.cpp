#include "posix_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "baton_percipio/c1z/error.hpp"

namespace bp::c1z::detail {

void throw_errno(std::string_view op, const std::filesystem::path& path, int err) {
  throw_error(op, path, std::strerror(err));
}

std::string error_text(std::string_view op, const std::filesystem::path& path, std::string_view what) {
  std::string msg = "c1z: ";
  msg.append(op).append(" ").append(path.string()).append(": ").append(what);
  return msg;
}

void throw_error(std::string_view op, const std::filesystem::path& path, std::string_view what) {
  throw error(error_text(op, path, what));
}

fd_guard::~fd_guard() { reset(); }

void fd_guard::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void write_all(int fd, const void* data, std::size_t size, const std::filesystem::path& path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path, errno);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::size_t read_some(int fd, void* data, std::size_t size, const std::filesystem::path& path) {
  for (;;) {
    const ssize_t n = ::read(fd, data, size);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw_errno("read", path, errno);
  }
}

std::size_t pread_some(int fd, void* data, std::size_t size, std::uint64_t offset, const std::filesystem::path& path) {
  for (;;) {
    const ssize_t n = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) throw_errno("read", path, errno);
  }
}

void pwrite_all(int fd, const void* data, std::size_t size, std::uint64_t offset, const std::filesystem::path& path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, p, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write", path, errno);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
}

std::filesystem::path make_temp_dir(const std::filesystem::path& parent, std::string_view prefix) {
  std::string tmpl = (parent / (std::string(prefix) + "XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw_errno("create temporary directory in", parent, errno);
  return std::filesystem::path(buf.data());
}

void fsync_dir(const std::filesystem::path& dir) {
  fd_guard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno("open directory", dir, errno);
  if (::fsync(fd.get()) != 0 && errno != EINVAL) throw_errno("fsync directory", dir, errno);
}

}  // namespace bp::c1z::detail
