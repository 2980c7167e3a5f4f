// libFuzzer entry for one target; BP_FUZZ_ENTRY names it (see tests/fuzz/CMakeLists.txt).
#include "fuzz/targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return bp::fuzz::BP_FUZZ_ENTRY(data, size);
}
