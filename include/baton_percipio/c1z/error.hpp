#pragma once
// The one exception type of the c1z module: a fatal file or database problem. The message is one
// line naming the operation and the path, e.g. "c1z: write /out/sync.c1z.tmp-x: No space left on device".
#include <stdexcept>
#include <string>

namespace bp::c1z {

class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bp::c1z
