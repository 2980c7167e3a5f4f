#include "report_ledger.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

using bp::percipio::activity_status;
using bp::percipio::report_row;
using bp::percipio::uuid;
using bp::sync::grant_slot;
using bp::sync::detail::grant_counts;
using bp::sync::detail::report_ledger;
using bp::sync::detail::row_counts;
using bp::sync::detail::uuid_index;

namespace {

uuid make_id(std::uint32_t kind, std::uint32_t n) {
  uuid u{};
  std::memcpy(u.bytes.data(), &kind, sizeof kind);
  std::memcpy(u.bytes.data() + 8, &n, sizeof n);
  return u;
}

// What the ledger must report: the rows folded in order once every user is known, as the sync did
// before rows could come ahead of the users list.
struct reference {
  row_counts rows;
  grant_counts grants;
};

reference fold(const std::vector<report_row>& rows, const std::set<uuid>& listed, const uuid_index& courses) {
  reference r;
  std::map<std::pair<uuid, uuid>, grant_slot> pairs;
  for (const auto& row : rows) {
    if (!listed.contains(row.user)) {
      ++r.rows.unknown_user;
      continue;
    }
    if (!courses.contains(row.content)) {
      ++r.rows.unknown_course;
      continue;
    }
    const grant_slot slot = bp::sync::map_status(row.status);
    if (slot == grant_slot::none) {
      ++r.rows.unmapped_by_status[static_cast<std::uint8_t>(row.status)];
      continue;
    }
    ++r.rows.mapped;
    auto& state = pairs[{row.user, row.content}];
    if (state >= slot) continue;
    if (state == grant_slot::in_progress) {
      --r.grants.in_progress;
      ++r.grants.upgraded;
    }
    state = slot;
    ++(slot == grant_slot::completed ? r.grants.completed : r.grants.in_progress);
  }
  return r;
}

void check_equal(const row_counts& a, const row_counts& b) {
  CHECK(a.unknown_user == b.unknown_user);
  CHECK(a.unknown_course == b.unknown_course);
  CHECK(a.mapped == b.mapped);
  CHECK(a.unmapped_by_status == b.unmapped_by_status);
}

}  // namespace

TEST_CASE("report_ledger: rows before, between and after the users list give the same counts and grants") {
  constexpr activity_status statuses[] = {activity_status::completed, activity_status::started,
                                          activity_status::active,    activity_status::abandoned,
                                          activity_status::empty,     activity_status::watched};
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    uuid_index courses;
    for (std::uint32_t c = 0; c < 12; ++c) courses.try_emplace(make_id(2, c), c);
    // Users 0..79 are listed (some twice), 80..99 only appear in the report.
    std::vector<uuid> list;
    for (std::uint32_t u = 0; u < 80; ++u) list.push_back(make_id(1, u));
    for (int d = 0; d < 5; ++d) list.push_back(make_id(1, static_cast<std::uint32_t>(rng() % 80)));
    std::shuffle(list.begin(), list.end(), rng);
    std::vector<report_row> rows(600);
    for (auto& r : rows) {
      r.user = make_id(1, static_cast<std::uint32_t>(rng() % 100));
      r.content = make_id(2, static_cast<std::uint32_t>(rng() % 14));  // 12 and 13: not synced
      r.status = statuses[rng() % std::size(statuses)];
    }
    // Interleave: a random number of rows, then a random number of users, until both are out;
    // the list ends at a random point of the report, or after it.
    report_ledger l;
    std::size_t next_row = 0;
    std::size_t next_user = 0;
    std::set<uuid> listed;
    std::size_t fresh = 0;
    const bool restart = rng() % 4 == 0;
    while (next_row < rows.size() || next_user < list.size()) {
      const std::size_t n = rng() % 50;
      const std::size_t end = std::min(rows.size(), next_row + n);
      l.map_rows(std::span(rows).subspan(next_row, end - next_row), courses);
      next_row = end;
      for (std::size_t k = rng() % 10; k > 0 && next_user < list.size(); --k, ++next_user) {
        const uuid& id = list[next_user];
        const bool was_new = listed.insert(id).second;
        CHECK(l.list_user(id, id.to_string()) == was_new);
        fresh += was_new;
      }
      if (next_user == list.size() && !l.users_ended()) l.end_users();
      if (restart && next_row == rows.size() && next_user < list.size()) {
        // The report delivered again: the per-row statistics start over, the pairs stay.
        l.restart_rows();
        l.map_rows(rows, courses);
      }
    }
    CHECK(fresh == 80);
    const auto want = fold(rows, listed, courses);
    check_equal(l.rows(), want.rows);
    const auto got = l.grants();
    CHECK(got.completed == want.grants.completed);
    CHECK(got.in_progress == want.grants.in_progress);
    CHECK(got.upgraded == want.grants.upgraded);
    CHECK(l.grants_seen() >= got.completed + got.in_progress);
  }
}

TEST_CASE("report_ledger: the principal keeps the id text the users list sent") {
  report_ledger l;
  const uuid id = make_id(0xabcdefabu, 7);  // letters, so the upper-case form differs
  const auto lower = id.to_string();
  std::string upper = lower;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  uuid_index courses;
  courses.try_emplace(make_id(2, 0), 0);
  const report_row row{id, make_id(2, 0), activity_status::completed};
  l.map_rows(std::span(&row, 1), courses);  // provisional: not listed yet
  CHECK(l.listed().at(0) == 0);
  CHECK_FALSE(l.has_own_text(0));
  CHECK(l.list_user(id, upper));
  CHECK_FALSE(l.list_user(id, lower));  // a duplicate keeps the first form
  CHECK(l.has_own_text(0));
  std::string out;
  l.append_principal(0, id, out);
  CHECK(out == upper);
  l.end_users();
  CHECK(l.grants().completed == 1);
}
