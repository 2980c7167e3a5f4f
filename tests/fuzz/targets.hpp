#pragma once
// Fuzz entry points, shared by the libFuzzer binaries (clang, -DBP_FUZZ=ON) and the regression
// replay test (a normal doctest binary). Each takes arbitrary bytes, must never crash, hang or leak,
// and calls std::abort() when one of its own consistency checks fails.
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

// X(name): one target per parser family; the corpus and regression folders use the same names.
#define BP_FUZZ_TARGETS(X) \
  X(http_response)         \
  X(users_page)            \
  X(catalog_page)          \
  X(search_results)        \
  X(report_status)         \
  X(report_stream)         \
  X(headers)               \
  X(config)                \
  X(c1z_reader)

namespace bp::fuzz {

#define BP_FUZZ_DECLARE(name) int name(const std::uint8_t* data, std::size_t size);
BP_FUZZ_TARGETS(BP_FUZZ_DECLARE)
#undef BP_FUZZ_DECLARE

// Consumes bytes from the front of the input for choices (split points, options); the rest is payload.
class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : p_(reinterpret_cast<const char*>(data)), n_(size) {}
  std::uint8_t byte() {
    if (n_ == 0) return 0;
    auto b = static_cast<std::uint8_t>(*p_);
    ++p_;
    --n_;
    return b;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | (byte() << 8)); }
  bool flag() { return (byte() & 1) != 0; }
  std::string_view rest() const { return {p_, n_}; }
  std::size_t size() const { return n_; }

 private:
  const char* p_;
  std::size_t n_;
};

// Split points chosen by the fuzzer: `count` piece lengths from 16-bit values (0 = one byte).
struct splitter {
  std::uint16_t seeds[8] = {};
  void read(input& in) {
    for (auto& s : seeds) s = in.u16();
  }
  // Calls fn(piece) for consecutive pieces of text, cycling through the seeds.
  template <class Fn>
  bool for_each(std::string_view text, Fn&& fn) const {
    std::size_t pos = 0;
    for (std::size_t i = 0; pos < text.size(); ++i) {
      std::size_t len = 1 + seeds[i % 8] % 257u;
      if (seeds[i % 8] & 0x8000u) len = 1 + seeds[i % 8] % 7u;  // many tiny pieces
      len = std::min(len, text.size() - pos);
      if (!fn(text.substr(pos, len))) return false;
      pos += len;
    }
    return true;
  }
};

[[noreturn]] inline void check_failed(const char* what) {
  // A message makes the crash report self-explanatory.
  std::fputs("fuzz check failed: ", stderr);
  std::fputs(what, stderr);
  std::fputc('\n', stderr);
  std::abort();
}

#define BP_FUZZ_CHECK(cond)                                  \
  do {                                                       \
    if (!(cond)) ::bp::fuzz::check_failed(#cond);            \
  } while (0)

}  // namespace bp::fuzz
