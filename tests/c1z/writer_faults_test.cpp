// What the writer does when the system says no: a lock it cannot take, a value SQLite cannot store.
// Each failure is a c1z::error naming what failed, and the destination stays as it was.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "baton_percipio/c1z/error.hpp"
#include "baton_percipio/c1z/writer.hpp"
#include "c1z/flock_fault.hpp"
#include "c1z/test_util.hpp"

using namespace bp::c1z;
using namespace bp::c1z::test;
namespace fs = std::filesystem;

namespace {

writer_options options_for(const fs::path& dest) {
  writer_options o;
  o.destination = dest;
  o.batch_size = 2;
  return o;
}

void add_rows(writer& w) {
  CHECK(w.add_resource_type("user", "type bytes"));
  CHECK(w.add_resource("user", "u-1", "resource bytes"));
  CHECK(w.add_resource("user", "u-2", "resource bytes"));
}

// The writer's working directory, found next to the destination.
fs::path find_work_dir(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".work-") != std::string::npos) return e.path();
  }
  return {};
}

// Address space that reads as zeros and costs no memory until touched: a range longer than 4 GiB
// without allocating it.
class zero_mapping {
 public:
  explicit zero_mapping(std::size_t size) : size_(size) {
    p_ = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    REQUIRE_MESSAGE(p_ != MAP_FAILED, std::strerror(errno));
  }
  ~zero_mapping() { ::munmap(p_, size_); }
  std::string_view view() const { return {static_cast<const char*>(p_), size_}; }

 private:
  void* p_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

TEST_CASE("the working directory is locked while the writer lives") {
  scratch_dir dir;
  writer w(options_for(dir / "out.c1z"));
  const fs::path work = find_work_dir(dir.path());
  REQUIRE_FALSE(work.empty());
  // flock locks belong to the open file description: a second one conflicts even in this process,
  // as another process's cleanup would.
  const int fd = ::open(work.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(::flock(fd, LOCK_EX | LOCK_NB) == -1);
  CHECK(errno == EWOULDBLOCK);
  w.abort();
  CHECK_FALSE(fs::exists(work));
  ::close(fd);
}

TEST_CASE("a working directory that cannot be locked fails the writer, naming it and the reason") {
  scratch_dir dir;
  const fs::path dest = dir / "out.c1z";
  write_file(dest, "previous");
  failing_flock fault(".out.c1z.work-", ENOLCK);
  try {
    writer w(options_for(dest));
    FAIL("the writer must not run without its lock");
  } catch (const error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("lock working directory") != std::string::npos);
    CHECK(msg.find((dir / ".out.c1z.work-").string()) != std::string::npos);
    CHECK(msg.find(std::strerror(ENOLCK)) != std::string::npos);
  }
  CHECK(fault.hits() == 1);
  CHECK(read_file(dest) == "previous");
  CHECK(count_entries(dir.path()) == 1);  // the working directory is gone again
}

TEST_CASE("a temporary file that cannot be locked fails finish; the destination stays as it was") {
  scratch_dir dir;
  const fs::path dest = dir / "out.c1z";
  write_file(dest, "previous");
  writer w(options_for(dest));
  add_rows(w);
  failing_flock fault(".out.c1z.tmp-", EWOULDBLOCK);
  try {
    w.finish();
    FAIL("finish must not write an unlocked temporary file");
  } catch (const error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("lock temporary file") != std::string::npos);
    CHECK(msg.find((dir / ".out.c1z.tmp-").string()) != std::string::npos);
    CHECK(msg.find(std::strerror(EWOULDBLOCK)) != std::string::npos);
  }
  CHECK(fault.hits() == 1);
  CHECK(read_file(dest) == "previous");
  CHECK(count_entries(dir.path()) == 1);
}

TEST_CASE("values longer than SQLite can store fail whole, even past 4 GiB (no 32-bit length)") {
  scratch_dir dir;
  const fs::path dest = dir / "out.c1z";
  write_file(dest, "previous");
  // 2^32 + 16 bytes: a 32-bit length would be 16 and bind a short, wrong value without complaint.
  const zero_mapping huge((std::size_t{1} << 32) + 16);
  SUBCASE("a blob") {
    writer w(options_for(dest));
    add_rows(w);
    CHECK_THROWS_WITH_AS(w.add_resource("user", "u-3", huge.view()), doctest::Contains("bind parameter 3"), error);
    // Rows may be missing now: nothing more is accepted and no file is written.
    CHECK_THROWS_WITH_AS(w.add_resource("user", "u-4", "fine"), doctest::Contains("earlier error"), error);
    CHECK_THROWS_WITH_AS(w.finish(), doctest::Contains("too big"), error);
  }
  SUBCASE("a text value") {
    writer w(options_for(dest));
    add_rows(w);
    CHECK_THROWS_WITH_AS(w.add_resource_type(huge.view(), "type bytes"), doctest::Contains("too big"), error);
    CHECK_THROWS_AS(w.finish(), error);
  }
  SUBCASE("a grant id") {
    writer w(options_for(dest));
    add_rows(w);
    CHECK_THROWS_WITH_AS(w.add_grant("course", "c-1", "course:c-1:completed", "user", "u-1", huge.view(), "g"),
                         doctest::Contains("bind parameter 6"), error);
    CHECK_THROWS_AS(w.finish(), error);
  }
  CHECK(read_file(dest) == "previous");
  CHECK(count_entries(dir.path()) == 1);
}
