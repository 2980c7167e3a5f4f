#include "baton_percipio/core/rate_limit.hpp"

#include <doctest/doctest.h>

using namespace std::chrono_literals;

TEST_CASE("rate limit syntax: N/DURATION or 0") {
  CHECK(bp::parse_rate_limit("100/20s") == bp::rate_limit{100, 20s});
  CHECK(bp::parse_rate_limit("5/500ms") == bp::rate_limit{5, 500ms});
  CHECK(bp::parse_rate_limit("1000/1m") == bp::rate_limit{1000, 1min});
  CHECK(bp::parse_rate_limit("10/1m30s") == bp::rate_limit{10, 90s});
  CHECK(bp::parse_rate_limit("1/2h") == bp::rate_limit{1, 2h});
  CHECK(bp::parse_rate_limit("0") == bp::rate_limit{});
  CHECK_FALSE(bp::parse_rate_limit("0")->enabled());
  CHECK(bp::percipio_rate_limit == bp::rate_limit{100, 20s});
  for (const char* bad : {"", "100", "100/", "/20s", "100/20", "0/20s", "-1/20s", "1.5/20s", "100/0s", "100/20x",
                          "100/s", "100/20s ", " 100/20s", "100 /20s", "1000001/1s", "1/25h", "100/20s/1"}) {
    CHECK_MESSAGE(!bp::parse_rate_limit(bad), bad);
  }
  CHECK(bp::to_string(bp::rate_limit{100, 20s}) == "100/20s");
  CHECK(bp::to_string(bp::rate_limit{5, 500ms}) == "5/500ms");
  CHECK(bp::to_string(bp::rate_limit{}) == "0");
}
