#include "helpers.hpp"

#include <csignal>

#include "baton_percipio/core/log.hpp"

namespace bp::hardening {

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
