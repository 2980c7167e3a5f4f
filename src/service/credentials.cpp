#include "baton_percipio/core/log.hpp"
#include "baton_percipio/service/credentials.hpp"

namespace bp::service {

result<credentials> load_credentials(std::string_view id, std::string_view secret) {
  // Registered before parsing, so even a malformed secret cannot reach a log line.
  bp::log::add_secret(std::string(secret));
  auto parsed_id = parse_client_id(id);
  if (!parsed_id) return parsed_id.error();
  auto key = parse_client_secret(secret);
  if (!key) return key.error();
  return credentials{std::move(parsed_id).value(), std::move(key).value()};
}

}  // namespace bp::service
