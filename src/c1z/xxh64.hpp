#pragma once
// XXH64 (seed 0), the hash of a zstd frame's content checksum (its low 32 bits), from libxxhash's
// streaming API: the checksum of a frame assembled out of order is computed over the final content
// in one pass.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace bp::c1z::detail {

class xxh64 {
 public:
  xxh64() : state_(XXH64_createState()) {
    if (!state_) throw std::bad_alloc();
    XXH64_reset(state_.get(), 0);
  }
  void update(const void* data, std::size_t size) { XXH64_update(state_.get(), data, size); }
  std::uint64_t digest() const { return XXH64_digest(state_.get()); }

 private:
  struct free_state {
    void operator()(XXH64_state_t* s) const noexcept { XXH64_freeState(s); }
  };
  std::unique_ptr<XXH64_state_t, free_state> state_;
};

}  // namespace bp::c1z::detail
