#pragma once
// XXH64 (seed 0), the hash of a zstd frame's content checksum (its low 32 bits). Streaming, so the
// checksum of a frame assembled out of order can be computed over the final content in one pass.
#include <cstddef>
#include <cstdint>

namespace bp::c1z::detail {

class xxh64 {
 public:
  xxh64();
  void update(const void* data, std::size_t size);
  std::uint64_t digest() const;

 private:
  std::uint64_t v_[4];
  std::uint64_t total_ = 0;
  unsigned char buf_[32];
  std::size_t buffered_ = 0;
};

}  // namespace bp::c1z::detail
