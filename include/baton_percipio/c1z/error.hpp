#pragma once
// The exception type of the c1z module: a fatal file or database problem (and, derived from it, a
// finish() abandoned on request). The message is one
// line naming the operation and the path, e.g. "c1z: write /out/sync.c1z.tmp-x: No space left on device".
#include <stdexcept>
#include <string>

namespace bp::c1z {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// finish() gave up because writer_options::stop_requested said so (not a file problem).
class cancelled : public error {
 public:
  cancelled() : error("c1z: finish cancelled by a stop request") {}
};

}  // namespace bp::c1z
