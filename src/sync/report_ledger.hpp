#pragma once
// What the report says about each (user, course) pair, and the report's per-row statistics.
// Rows only need the courses: a user the users list has not delivered yet gets a provisional
// index, so the report can be folded (and its grants written) before the users list ends, which on
// paced syncs of large tenants is the last request of the sync. Statistics that depend on whether
// such a user exists wait per user until users_ended().
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "baton_percipio/percipio/model.hpp"
#include "baton_percipio/sync/mapping.hpp"
#include "pair_table.hpp"
#include "uuid_index.hpp"

namespace bp::sync::detail {

// Pair states in pair_table: the grant_slot in the low bits, and whether an in_progress row was
// replaced by a later completed one.
inline constexpr std::uint8_t pair_slot_mask = 0x03;
inline constexpr std::uint8_t pair_upgraded = 0x80;

struct row_counts {
  std::uint64_t unknown_user = 0;
  std::uint64_t unknown_course = 0;
  std::uint64_t mapped = 0;  // rows of a listed user and a synced course with a mapped status
  std::array<std::uint64_t, 256> unmapped_by_status{};  // rows skipped per status byte
};

struct grant_counts {
  std::uint64_t completed = 0;
  std::uint64_t in_progress = 0;
  std::uint64_t upgraded = 0;  // in_progress grants replaced by a later completed row
};

class report_ledger {
 public:
  // The users list delivered this user, with its id text as sent. False for a duplicate.
  bool list_user(const percipio::uuid& id, std::string_view text);
  // No user follows: rows of users not listed are unknown from now on, and the counts are final.
  void end_users() { users_ended_ = true; }
  bool users_ended() const { return users_ended_; }

  // Folds report rows into the pair states. courses: every synced course (the list has ended).
  void map_rows(std::span<const percipio::report_row> rows, const uuid_index& courses);
  // The report is delivered again from its start: the per-row statistics start over (the pair
  // states are idempotent and stay).
  void restart_rows();

  // Pairs with a grant so far, listed users or not (progress only).
  std::uint64_t grants_seen() const { return grants_seen_; }
  // Once the users list has ended: the rows' statistics, and the grants of listed users.
  row_counts rows() const;
  grant_counts grants() const;

  const uuid_index& users() const { return users_; }
  const pair_table& pairs() const { return pairs_; }
  // Per user index: 1 when the users list has delivered it.
  const std::vector<std::uint8_t>& listed() const { return listed_; }
  bool has_own_text(std::uint32_t user) const { return user_text_.contains(user); }
  // The grant principal's id: the text the users list sent, else the canonical form.
  void append_principal(std::uint32_t user, const percipio::uuid& id, std::string& out) const;
  // Frees the pair states (after the grants are written and counted).
  void release_pairs() { pairs_ = pair_table{}; }

 private:
  // Rows of a user that was not listed when they came, by what they are if the user turns up.
  struct pending {
    std::uint32_t rows = 0;
    std::uint32_t unknown_course = 0;
    std::uint32_t mapped = 0;
  };

  uuid_index users_;
  std::vector<std::uint8_t> listed_;
  std::unordered_map<std::uint32_t, std::string> user_text_;  // ids sent in another form than canonical
  bool users_ended_ = false;
  pair_table pairs_;
  std::uint64_t grants_seen_ = 0;
  row_counts counted_;  // rows of users listed when they came
  std::vector<pending> pending_;  // by user index, grown on demand
  std::vector<std::pair<std::uint32_t, std::uint8_t>> pending_unmapped_;  // (user, status) per row
};

}  // namespace bp::sync::detail
