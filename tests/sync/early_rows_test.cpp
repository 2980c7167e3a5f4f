#include "early_rows.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include "baton_percipio/sync/run.hpp"

using bp::percipio::report_row;
using bp::sync::detail::early_rows;

namespace {

std::vector<report_row> rows(std::uint32_t from, std::uint32_t n) {
  std::vector<report_row> out(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t v = from + i;
    std::memcpy(out[i].user.bytes.data(), &v, sizeof v);
    out[i].status = bp::percipio::activity_status::completed;
  }
  return out;
}

std::vector<std::uint32_t> drain(early_rows& e) {
  std::vector<std::uint32_t> got;
  std::vector<report_row> chunk;
  while (e.next(chunk)) {
    for (const auto& r : chunk) {
      std::uint32_t v;
      std::memcpy(&v, r.user.bytes.data(), sizeof v);
      got.push_back(v);
    }
  }
  return got;
}

std::vector<std::uint32_t> iota(std::uint32_t n) {
  std::vector<std::uint32_t> v(n);
  for (std::uint32_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

}  // namespace

TEST_CASE("early rows come back in arrival order, from memory and from the file") {
  const auto dir = std::filesystem::temp_directory_path();
  SUBCASE("within the memory budget: no file") {
    early_rows e(dir, 1000);
    e.add(rows(0, 400));
    e.add(rows(400, 600));
    CHECK(e.size() == 1000);
    CHECK(e.spilled() == 0);
    CHECK(drain(e) == iota(1000));
    CHECK(e.empty());
  }
  SUBCASE("over the budget: everything from the first spill on goes through the file") {
    early_rows e(dir, 1000);
    e.add(rows(0, 700));
    e.add(rows(700, 700));      // 1400 > 1000: memory and this batch spill
    e.add(rows(1400, 100'000));  // while the file holds rows, more go there (order)
    CHECK(e.size() == 101'400);
    CHECK(e.spilled() == 101'400);
    CHECK(drain(e) == iota(101'400));
    CHECK(e.empty());
    // Reusable after draining.
    e.add(rows(0, 5));
    CHECK(drain(e) == iota(5));
  }
  SUBCASE("clear forgets memory and file") {
    early_rows e(dir, 10);
    e.add(rows(0, 50));
    e.clear();
    CHECK(e.empty());
    std::vector<report_row> chunk;
    CHECK_FALSE(e.next(chunk));
    e.add(rows(0, 3));
    CHECK(drain(e) == iota(3));
  }
}

TEST_CASE("early rows: a directory that cannot hold the file is an error naming it") {
  early_rows e("/nonexistent-dir-for-early-rows", 1);
  CHECK_THROWS_WITH_AS(e.add(rows(0, 5)), doctest::Contains("/nonexistent-dir-for-early-rows"),
                       bp::sync::sync_error);
}
