#include "uuid_index.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>

using bp::percipio::uuid;
using bp::sync::detail::uuid_index;

TEST_CASE("uuid_index agrees with std::map through growth, duplicates and misses") {
  std::mt19937_64 rng(42);
  auto random_uuid = [&] {
    uuid u;
    for (auto& b : u.bytes) b = static_cast<std::uint8_t>(rng());
    return u;
  };
  uuid_index idx;
  std::map<uuid, std::uint32_t> ref;
  std::vector<uuid> keys;
  for (std::uint32_t i = 0; i < 50'000; ++i) {
    // One key in ten is a duplicate of an earlier one: the first value stays.
    const uuid k = (i % 10 == 9 && !keys.empty()) ? keys[rng() % keys.size()] : random_uuid();
    const auto [value, fresh] = idx.try_emplace(k, i);
    const auto [it, ref_fresh] = ref.try_emplace(k, i);
    CHECK(fresh == ref_fresh);
    CHECK(value == it->second);
    if (fresh) keys.push_back(k);
  }
  CHECK(idx.size() == ref.size());
  for (const auto& [k, v] : ref) CHECK(idx.find(k) == v);
  for (int i = 0; i < 1000; ++i) {
    const uuid miss = random_uuid();
    CHECK(idx.find(miss) == (ref.count(miss) ? ref[miss] : uuid_index::npos));
  }
  // Keys that differ only in their last bytes (sequential ids) spread too.
  uuid_index seq;
  uuid base{};
  for (std::uint32_t i = 0; i < 10'000; ++i) {
    uuid k = base;
    k.bytes[15] = static_cast<std::uint8_t>(i);
    k.bytes[14] = static_cast<std::uint8_t>(i >> 8);
    CHECK(seq.try_emplace(k, i).second);
  }
  CHECK(seq.find(base) == 0);
  CHECK(uuid_index{}.find(base) == uuid_index::npos);  // empty table
}
