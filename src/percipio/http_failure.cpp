#include "http_failure.hpp"

#include <fmt/format.h>

#include "baton_percipio/net/error.hpp"
#include "baton_percipio/percipio/parse.hpp"

namespace bp::percipio::detail {

std::string endpoint_of(std::string_view method, std::string_view target) {
  return fmt::format("{} {}", method, target.substr(0, target.find('?')));
}

std::optional<failure> http_failure(const std::error_code& ec, const net::response& resp, std::string_view method,
                                    std::string_view target, const char* service, std::string_view context,
                                    bp::deadline d) {
  const std::string endpoint = endpoint_of(method, target);
  if (ec) {
    if (ec == net::errc::cancelled) return make_failure(errc::cancelled, fmt::format("{}: cancelled", context));
    if (bp::steady_clock::now() >= d)
      return make_failure(errc::deadline_exceeded, fmt::format("{}: deadline exceeded ({})", context, endpoint));
    std::string detail = resp.error_detail.empty() ? "" : fmt::format(" ({})", resp.error_detail);
    return make_failure(errc::upstream_failed,
                        fmt::format("{}: request to {} failed: {}{}", context, endpoint, ec.message(), detail));
  }
  const int st = resp.status;
  if (st >= 200 && st < 300) return std::nullopt;
  if (st == 401)
    return make_failure(errc::auth_failed,
                        fmt::format("authentication failed: the API token was rejected (401) by {}", endpoint));
  if (st == 403)
    return make_failure(errc::permission_denied,
                        fmt::format("permission denied (403) by {}: the service account lacks access to {} or the "
                                    "organization id is wrong",
                                    endpoint, service));
  const std::string summary = summarize_error_body(resp.body);
  if (st == 404)
    return make_failure(errc::not_found, fmt::format("{}: not found (404) at {}; check the organization id{}{}",
                                                     context, endpoint, summary.empty() ? "" : ": ", summary));
  return make_failure(errc::upstream_failed, fmt::format("{}: HTTP {} from {}{}{}", context, st, endpoint,
                                                         summary.empty() ? "" : ": ", summary));
}

}  // namespace bp::percipio::detail
