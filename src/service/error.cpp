#include "baton_percipio/service/error.hpp"

namespace bp::service {
namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "conductorone"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_client_id: return "invalid client id";
      case errc::invalid_client_secret: return "invalid client secret";
      case errc::invalid_api_host: return "invalid API host";
      case errc::auth_failed: return "authentication failed";
      case errc::unavailable: return "ConductorOne unavailable";
    }
    return "unknown ConductorOne error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const category_impl c;
  return c;
}

}  // namespace bp::service
