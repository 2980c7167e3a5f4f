// The hard stop of a cancelled sync: it stops an io_context that does not drain within the grace
// period, and stays quiet when the context drained first.
#include "hard_stop.hpp"

#include <doctest/doctest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

using bp::sync::detail::hard_stop;

TEST_CASE("hard stop: fires on a context that never drains, not on one that did") {
  SUBCASE("armed, never drained: run() returns because the hard stop stopped the context") {
    asio::io_context io;
    auto work = asio::make_work_guard(io);  // work that ignores every cancellation
    hard_stop hs(io, std::chrono::milliseconds(20));
    hs.arm();
    io.run();  // returns only through io.stop()
    CHECK(hs.fired());
  }
  SUBCASE("drained before the grace period ends: never fires") {
    asio::io_context io;
    hard_stop hs(io, std::chrono::hours(1));
    hs.arm();
    io.run();  // nothing to do
    hs.drained();
    CHECK_FALSE(hs.fired());
  }
  SUBCASE("never armed: destruction does not wait") {
    asio::io_context io;
    hard_stop hs(io, std::chrono::hours(1));
    CHECK_FALSE(hs.fired());
  }
}
