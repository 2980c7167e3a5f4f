#pragma once
// Makes flock(2) fail for chosen descriptors, to test what the writer does when it cannot lock its
// working directory or temporary file. flock_fault.cpp defines flock() in the test binary itself:
// the executable's definition takes precedence over libc's, so the library's calls arrive there
// with no hook in the library. Unarmed, it forwards to the next definition (libc, or a sanitizer's).
#include <string>

namespace bp::c1z::test {

// While alive, flock() on a descriptor whose path contains path_part fails with err.
class failing_flock {
 public:
  failing_flock(std::string path_part, int err);
  ~failing_flock();
  failing_flock(const failing_flock&) = delete;
  failing_flock& operator=(const failing_flock&) = delete;
  // How many calls failed so far.
  int hits() const;
};

}  // namespace bp::c1z::test
