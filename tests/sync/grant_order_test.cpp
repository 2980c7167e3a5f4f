#include "grant_order.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>

using bp::percipio::uuid;
using bp::sync::grant_slot;
using bp::sync::detail::grant_order;
using bp::sync::detail::pair_table;
using bp::sync::detail::uuid_index;

TEST_CASE("grant_order: every pair once, in (course id, slug, user id) text order") {
  std::mt19937_64 rng(7);
  uuid_index users;
  std::vector<uuid> user_ids;
  for (std::uint32_t i = 0; i < 3000; ++i) {
    uuid u;
    for (auto& b : u.bytes) b = static_cast<std::uint8_t>(rng());
    if (users.try_emplace(u, static_cast<std::uint32_t>(user_ids.size())).second) user_ids.push_back(u);
  }
  std::vector<std::string> course_text;
  for (int c = 0; c < 40; ++c) course_text.push_back("course-" + std::to_string(rng() % 100000) + "-" + std::to_string(c));
  std::vector<std::string_view> course_ids(course_text.begin(), course_text.end());
  pair_table pairs;
  std::vector<std::tuple<std::string, std::string, std::string>> want;  // (course, slug, user) text
  for (int i = 0; i < 20000; ++i) {
    const auto u = static_cast<std::uint32_t>(rng() % user_ids.size());
    const auto c = static_cast<std::uint32_t>(rng() % course_ids.size());
    const auto slot = rng() % 2 ? grant_slot::completed : grant_slot::in_progress;
    auto& state = pairs.at(u, c);
    state = std::max(state, static_cast<std::uint8_t>(slot));
  }
  pairs.for_each([&](std::uint32_t u, std::uint32_t c, std::uint8_t state) {
    want.emplace_back(course_text[c], state == 2 ? "completed" : "in_progress", user_ids[u].to_string());
  });
  std::sort(want.begin(), want.end());
  const grant_order order(pairs, users, course_ids);
  REQUIRE(order.size() == want.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto e = order[i];
    CHECK(e.user_id == user_ids[e.user]);
    const auto got = std::make_tuple(course_text[e.course],
                                     std::string(e.slot == grant_slot::completed ? "completed" : "in_progress"),
                                     e.user_id.to_string());
    CHECK(got == want[i]);
  }
}

TEST_CASE("grant_order: keep selects users; the upgraded flag does not change the slot") {
  uuid_index users;
  std::vector<uuid> ids;
  for (std::uint32_t i = 0; i < 4; ++i) {
    uuid u{};
    u.bytes[0] = static_cast<std::uint8_t>(10 - i);
    users.try_emplace(u, i);
    ids.push_back(u);
  }
  const std::vector<std::string> course_text{"b", "a"};
  const std::vector<std::string_view> course_ids(course_text.begin(), course_text.end());
  pair_table pairs;
  pairs.at(0, 0) = static_cast<std::uint8_t>(grant_slot::completed) | bp::sync::detail::pair_upgraded;
  pairs.at(1, 0) = static_cast<std::uint8_t>(grant_slot::in_progress);
  pairs.at(2, 1) = static_cast<std::uint8_t>(grant_slot::completed);
  pairs.at(3, 1) = static_cast<std::uint8_t>(grant_slot::none);
  const std::vector<std::uint8_t> keep{1, 1, 0, 1};
  const grant_order order(pairs, users, course_ids, keep);
  REQUIRE(order.size() == 2);
  CHECK(order[0].user == 0);
  CHECK(order[0].slot == grant_slot::completed);
  CHECK(order[1].user == 1);
  CHECK(order[1].slot == grant_slot::in_progress);
  const grant_order all(pairs, users, course_ids);
  REQUIRE(all.size() == 3);
  CHECK(all[0].user == 2);  // course "a" first
}
