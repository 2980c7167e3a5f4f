// A stop request at each point where finish() asks (between its steps and during the index
// builds): finish() throws c1z::cancelled, the destination keeps its previous bytes, and nothing of
// the writer is left behind. Without a stop request the same writer publishes the file.
#include <doctest/doctest.h>

#include <string>

#include "baton_percipio/c1z/writer.hpp"
#include "test_util.hpp"

using namespace bp::c1z;
using namespace bp::c1z::test;

namespace {

// Enough rows that the index builds call the progress handler more than once.
void fill(writer& w) {
  w.add_resource_type("user", "u");
  w.add_resource_type("course", "c");
  for (int i = 0; i < 3000; ++i) {
    const std::string id = "user-" + std::to_string(i);
    w.add_resource("user", id, "data-" + id);
    w.add_grant("course", "c1", "course:c1:completed", "user", id, "course:c1:completed:user:" + id,
                "grant-" + id);
  }
}

}  // namespace

TEST_CASE("finish() cancelled at each stop point keeps the previous file; unstopped it publishes") {
  scratch_dir dir;
  const auto dest = dir / "out.c1z";
  bool overlap = true;
  SUBCASE("tables compressed during the index builds") { overlap = true; }
  SUBCASE("the whole file compressed after them") { overlap = false; }
  // Count the stop points of a finish() that is never stopped.
  std::size_t asked = 0;
  {
    writer_options o;
    o.destination = dest;
    o.ids_unique = true;
    o.overlap_compression = overlap;
    o.stop_requested = [&] {
      ++asked;
      return false;
    };
    writer w(o);
    fill(w);
    w.finish();
  }
  REQUIRE(asked >= 5);  // before, during the index builds, after them, per compressed chunk, before the rename
  for (std::size_t k = 1; k <= asked; ++k) {
    CAPTURE(k);
    write_file(dest, "previous good file");
    writer_options o;
    o.destination = dest;
    o.ids_unique = true;
    o.overlap_compression = overlap;
    std::size_t n = 0;
    o.stop_requested = [&] { return ++n >= k; };
    writer w(o);
    fill(w);
    CHECK_THROWS_AS(w.finish(), cancelled);
    CHECK(read_file(dest) == "previous good file");
    CHECK(count_entries(dir.path()) == 1);  // no working directory, no temporary file
  }
}
