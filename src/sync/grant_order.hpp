#pragma once
// The order in which the sync writes its grants, once the report has ended: by course id, then
// entitlement slug (completed before in_progress), then user id, all as text. Three of the four
// grant indexes (spec 2.5) start with these keys, so SQLite's index builds in finish() get their
// keys presorted, which roughly halves their cost (BENCHMARKS.md).
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "baton_percipio/percipio/model.hpp"
#include "baton_percipio/sync/mapping.hpp"
#include "pair_table.hpp"
#include "report_ledger.hpp"
#include "uuid_index.hpp"

namespace bp::sync::detail {

class grant_order {
 public:
  struct entry {
    std::uint32_t user;
    const percipio::uuid& user_id;
    std::uint32_t course;
    grant_slot slot;
  };

  // users: every user with a pair (dense indexes); course_ids: each course's id as written, by
  // index; keep: per user index, nonzero for users whose grants are wanted (empty: every user).
  // Users whose id text is not the canonical lower-case form sort by their uuid: still correct,
  // only less presorted.
  grant_order(const pair_table& pairs, const uuid_index& users, std::span<const std::string_view> course_ids,
              std::span<const std::uint8_t> keep = {});

  std::size_t size() const { return keys_.size(); }
  entry operator[](std::size_t i) const;

 private:
  std::vector<std::uint64_t> keys_;  // (course rank << 33) | (in_progress << 32) | user rank, sorted
  std::vector<std::pair<percipio::uuid, std::uint32_t>> users_by_rank_;  // (id, user index), sorted
  std::vector<std::uint32_t> course_by_rank_;
};

}  // namespace bp::sync::detail
