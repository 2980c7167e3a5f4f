#pragma once
// Which (user, course) pairs already have a grant, and of which kind. Open addressing over dense
// 32-bit indexes: 9 bytes per slot, so millions of pairs stay within tens of MB, unlike a node map.
#include <cstdint>
#include <vector>

namespace bp::sync::detail {

class pair_table {
 public:
  explicit pair_table(std::size_t expected = 1024) { rehash(capacity_for(expected)); }

  // Returns the slot state for (user, course), inserting 0 when absent.
  std::uint8_t& at(std::uint32_t user, std::uint32_t course) {
    if ((size_ + 1) * 10 > keys_.size() * 7) rehash(keys_.size() * 2);
    std::uint64_t key = (static_cast<std::uint64_t>(user) << 32) | course;
    std::size_t i = probe(key);
    if (keys_[i] != empty_key) return states_[i];
    keys_[i] = key;
    states_[i] = 0;
    ++size_;
    return states_[i];
  }
  std::size_t size() const { return size_; }
  // Calls f(user, course, state) for every stored pair, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] == empty_key) continue;
      f(static_cast<std::uint32_t>(keys_[i] >> 32), static_cast<std::uint32_t>(keys_[i]), states_[i]);
    }
  }

 private:
  static constexpr std::uint64_t empty_key = ~0ULL;
  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c * 7 < n * 10) c *= 2;
    return c;
  }
  static std::uint64_t mix(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
  }
  std::size_t probe(std::uint64_t key) const {
    std::size_t mask = keys_.size() - 1;
    std::size_t i = mix(key) & mask;
    while (keys_[i] != empty_key && keys_[i] != key) i = (i + 1) & mask;
    return i;
  }
  void rehash(std::size_t cap) {
    std::vector<std::uint64_t> old_keys(cap, empty_key);
    std::vector<std::uint8_t> old_states(cap, 0);
    old_keys.swap(keys_);
    old_states.swap(states_);
    for (std::size_t j = 0; j < old_keys.size(); ++j) {
      if (old_keys[j] == empty_key) continue;
      std::size_t i = probe(old_keys[j]);
      keys_[i] = old_keys[j];
      states_[i] = old_states[j];
    }
  }
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint8_t> states_;
  std::size_t size_ = 0;
};

}  // namespace bp::sync::detail
