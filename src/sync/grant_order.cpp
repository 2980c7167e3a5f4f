#include "grant_order.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace bp::sync::detail {

grant_order::grant_order(const pair_table& pairs, const uuid_index& users,
                         std::span<const std::string_view> course_ids, std::span<const std::uint8_t> keep) {
  // Byte order of a uuid is the order of its canonical lower-case text.
  users_by_rank_.reserve(users.size());
  users.for_each([&](const percipio::uuid& id, std::uint32_t idx) { users_by_rank_.emplace_back(id, idx); });
  std::sort(users_by_rank_.begin(), users_by_rank_.end());
  std::vector<std::uint32_t> user_rank(users.size(), 0);
  for (std::size_t r = 0; r < users_by_rank_.size(); ++r) {
    user_rank[users_by_rank_[r].second] = static_cast<std::uint32_t>(r);
  }
  course_by_rank_.resize(course_ids.size());
  std::iota(course_by_rank_.begin(), course_by_rank_.end(), 0u);
  std::sort(course_by_rank_.begin(), course_by_rank_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return course_ids[a] < course_ids[b]; });
  std::vector<std::uint32_t> course_rank(course_ids.size(), 0);
  for (std::size_t r = 0; r < course_by_rank_.size(); ++r) course_rank[course_by_rank_[r]] = static_cast<std::uint32_t>(r);

  keys_.reserve(pairs.size());
  pairs.for_each([&](std::uint32_t user, std::uint32_t course, std::uint8_t state) {
    const auto slot = static_cast<grant_slot>(state & pair_slot_mask);
    if (slot == grant_slot::none || (!keep.empty() && keep[user] == 0)) return;
    const std::uint64_t in_progress = slot == grant_slot::in_progress ? 1 : 0;
    keys_.push_back((static_cast<std::uint64_t>(course_rank[course]) << 33) | (in_progress << 32) | user_rank[user]);
  });
  std::sort(keys_.begin(), keys_.end());
}

grant_order::entry grant_order::operator[](std::size_t i) const {
  const std::uint64_t k = keys_[i];
  const auto& user = users_by_rank_[static_cast<std::uint32_t>(k)];
  return {user.second, user.first, course_by_rank_[k >> 33],
          ((k >> 32) & 1) != 0 ? grant_slot::in_progress : grant_slot::completed};
}

}  // namespace bp::sync::detail
