#include "c1z/flock_fault.hpp"

#include <dlfcn.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>

namespace bp::c1z::test {
namespace {

// The tests are single-threaded while armed; the writer's compression thread never calls flock.
struct armed_state {
  bool on = false;
  std::string path_part;
  int err = 0;
  int hits = 0;
};

armed_state& armed() {
  static armed_state s;
  return s;
}

std::string fd_path(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[4096];
  const ssize_t n = ::readlink(link, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

failing_flock::failing_flock(std::string path_part, int err) {
  auto& a = armed();
  a.path_part = std::move(path_part);
  a.err = err;
  a.hits = 0;
  a.on = true;
}

failing_flock::~failing_flock() { armed().on = false; }

int failing_flock::hits() const { return armed().hits; }

}  // namespace bp::c1z::test

extern "C" int flock(int fd, int operation) noexcept {
  auto& a = bp::c1z::test::armed();
  if (a.on && bp::c1z::test::fd_path(fd).find(a.path_part) != std::string::npos) {
    ++a.hits;
    errno = a.err;
    return -1;
  }
  using flock_fn = int (*)(int, int);
  static const auto next = reinterpret_cast<flock_fn>(::dlsym(RTLD_NEXT, "flock"));
  if (next == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return next(fd, operation);
}
