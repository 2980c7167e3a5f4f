#include "helpers.hpp"

#include <csignal>

#include <doctest/doctest.h>

#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/expected_counts.hpp"

namespace bp::hardening {

void check_matches_expected(const sync::summary& s, const fixture::tenant& t, const fs::path& file) {
  const auto want = fixture::compute_expected(t);
  CHECK(s.users == want.users);
  CHECK(s.courses == want.courses);
  CHECK(s.entitlements == want.entitlements);
  CHECK(s.grants_completed == want.grants_completed);
  CHECK(s.grants_in_progress == want.grants_in_progress);
  c1z::reader r(file);
  const auto st = r.stats();
  std::uint64_t resources = 0;
  for (const auto& [type, n] : st.resources) resources += n;
  CHECK(resources == want.users + want.courses);
  CHECK(st.entitlements == want.entitlements);
  CHECK(st.grants == want.grants());
}

void quiet_logs() { log::configure(log::level::error, log::format::console); }

namespace {
const bool quiet = [] {
  quiet_logs();
  // The scripted TLS server writes with OpenSSL (plain write()): a client that hung up must give
  // EPIPE, not kill the test binary.
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();
}  // namespace

}  // namespace bp::hardening
