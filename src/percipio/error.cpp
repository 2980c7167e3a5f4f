#include "baton_percipio/percipio/error.hpp"

namespace bp::percipio {
namespace {

class percipio_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "percipio"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::auth_failed: return "authentication failed";
      case errc::permission_denied: return "permission denied";
      case errc::upstream_failed: return "upstream request failed";
      case errc::malformed_response: return "malformed response";
      case errc::report_failed: return "report failed";
      case errc::report_timeout: return "report timed out";
      case errc::not_found: return "not found";
      case errc::deadline_exceeded: return "deadline exceeded";
      case errc::cancelled: return "cancelled";
    }
    return "unknown percipio error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const percipio_category c;
  return c;
}

}  // namespace bp::percipio
