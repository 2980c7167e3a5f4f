#pragma once
// This process's resource use, for the sync summary.
#include <cstdint>

namespace bp::sync::detail {

std::uint64_t peak_rss_bytes();  // the process's high-water resident set, in bytes
double cpu_seconds();            // user + system CPU time of the whole process so far

}  // namespace bp::sync::detail
