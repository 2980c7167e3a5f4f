#pragma once
// Finds the brackets and braces outside JSON strings, 64 bytes at a time (simdjson's stage-1
// technique: backslash runs -> escaped quotes -> in-string mask by prefix XOR). The carries make
// the result independent of where the input is split, as long as blocks are fed in order.
#include <cstdint>

namespace bp::percipio::detail {

struct scan_carry {
  std::uint64_t prev_in_string = 0;  // all ones when the previous block ended inside a string
  std::uint64_t prev_escaped = 0;    // 1 when the previous block ended with an odd backslash run
};

struct block_events {
  std::uint64_t open = 0;   // '{' or '[' outside strings
  std::uint64_t close = 0;  // '}' or ']' outside strings
};

using scan_fn = block_events (*)(const char* block64, scan_carry& carry) noexcept;

// The fastest implementation this CPU supports (AVX2 + PCLMUL, else portable).
scan_fn best_scanner() noexcept;
scan_fn portable_scanner() noexcept;

}  // namespace bp::percipio::detail
