#pragma once
// Percipio id (UUID) -> dense 32-bit index, for users and courses. Open addressing with linear
// probing over 20-byte slots holding key and value together: a lookup usually touches one cache
// line; a million users fit in 2^21 slots, 42 MB, with no per-entry allocation.
#include <cstdint>
#include <utility>
#include <vector>

#include "baton_percipio/percipio/model.hpp"

namespace bp::sync::detail {

class uuid_index {
 public:
  static constexpr std::uint32_t npos = ~std::uint32_t{0};

  // Stores (id, value) unless id is there already. Returns the stored value and whether it is new.
  std::pair<std::uint32_t, bool> try_emplace(const percipio::uuid& id, std::uint32_t value) {
    if ((size_ + 1) * 8 > slots_.size() * 7) grow();  // load factor at most 7/8
    slot& s = slots_[probe(id)];
    if (s.value != npos) return {s.value, false};
    s.key = id;
    s.value = value;
    ++size_;
    return {value, true};
  }
  // The value for id, or npos.
  std::uint32_t find(const percipio::uuid& id) const {
    return slots_.empty() ? npos : slots_[probe(id)].value;
  }
  bool contains(const percipio::uuid& id) const { return find(id) != npos; }
  std::size_t size() const { return size_; }
  // Calls f(id, value) for every entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const slot& s : slots_) {
      if (s.value != npos) f(s.key, s.value);
    }
  }

 private:
  struct slot {
    percipio::uuid key{};
    std::uint32_t value = npos;  // npos: empty
  };

  // percipio::uuid_hash folds the two halves; the finalizer spreads sequential ids over the table.
  static std::size_t hash(const percipio::uuid& k) {
    std::uint64_t h = percipio::uuid_hash{}(k);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return static_cast<std::size_t>(h);
  }
  // The slot holding id, or the empty slot where it belongs. Needs a non-empty table with a free slot.
  std::size_t probe(const percipio::uuid& id) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash(id) & mask;
    while (slots_[i].value != npos && slots_[i].key != id) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<slot> old(slots_.empty() ? 1024 : slots_.size() * 2);
    old.swap(slots_);
    for (const slot& s : old) {
      if (s.value == npos) continue;
      std::size_t i = hash(s.key) & (slots_.size() - 1);
      while (slots_[i].value != npos) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
    }
  }

  std::vector<slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace bp::sync::detail
