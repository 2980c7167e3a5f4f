#include "helpers.hpp"

#include "baton_percipio/core/log.hpp"

namespace bp::hardening {

void quiet_logs() { log::configure(log::level::error, log::format::console); }

namespace {
const bool quiet = [] {
  quiet_logs();
  return true;
}();
}  // namespace

}  // namespace bp::hardening
