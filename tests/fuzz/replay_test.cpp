// Replays every checked-in fuzz input (tests/fuzz/regressions/<target>/* and the seed corpora in
// tests/fuzz/corpus/<target>/*) through the same entry functions the fuzzers use, built normally.
// A crash found by fuzzing stays fixed once its input is checked in.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"

namespace {

namespace fs = std::filesystem;
using entry_fn = int (*)(const std::uint8_t*, std::size_t);

struct target {
  const char* name;
  entry_fn fn;
};

#define BP_FUZZ_ENTRY_ROW(name) target{#name, &bp::fuzz::name},
const target all_targets[] = {BP_FUZZ_TARGETS(BP_FUZZ_ENTRY_ROW)};
#undef BP_FUZZ_ENTRY_ROW

std::size_t replay_dir(const target& t, const fs::path& dir) {
  std::size_t n = 0;
  if (!fs::is_directory(dir)) return 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(t.name << " <- " << f.string());
    CHECK(t.fn(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) == 0);
    ++n;
  }
  return n;
}

// Inputs as `ls` shows them: every entry not starting with a dot, counted apart from replay_dir so
// an input it skipped (or a stop after the first) shows as a difference.
std::size_t listed(const fs::path& dir) {
  std::size_t n = 0;
  if (!fs::is_directory(dir)) return 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string()[0] != '.';
  return n;
}

// The inputs under every subdirectory of root, a target's or not: a directory named after no
// target (a typo, a removed target) would otherwise never be replayed.
std::size_t listed_under(const fs::path& root) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_directory()) n += listed(e.path());
  }
  return n;
}

}  // namespace

TEST_CASE("fuzz regression inputs replay cleanly") {
  const fs::path root = fs::path(BP_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  std::size_t total = 0;
  for (const auto& t : all_targets) {
    INFO(t.name);
    const std::size_t n = replay_dir(t, root / t.name);
    CHECK(n == listed(root / t.name));
    total += n;
  }
  CHECK(total > 0);
  CHECK(total == listed_under(root));
}

TEST_CASE("fuzz seed corpora replay cleanly") {
  const fs::path root = fs::path(BP_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  std::size_t total = 0;
  for (const auto& t : all_targets) {
    INFO(t.name);
    const std::size_t n = replay_dir(t, root / t.name);
    CHECK(n > 0);
    CHECK(n == listed(root / t.name));
    total += n;
  }
  CHECK(total == listed_under(root));
}

TEST_CASE("fuzz entry functions accept empty and tiny inputs") {
  const std::uint8_t bytes[] = {0xff, 0x00, 0x7b, 0x5b, 0x22};
  for (const auto& t : all_targets) {
    INFO(t.name);
    for (std::size_t n = 0; n <= sizeof bytes; ++n) CHECK(t.fn(bytes, n) == 0);
  }
}
