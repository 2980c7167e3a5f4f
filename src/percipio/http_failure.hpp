#pragma once
// How the API client turns a final HTTP outcome (transport error or status) into a failure value
// with a message that names the endpoint and what to check.
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/net/http.hpp"
#include "baton_percipio/percipio/error.hpp"

namespace bp::percipio::detail {

// "GET /path" without the query: what error messages name.
std::string endpoint_of(std::string_view method, std::string_view target);

// Maps a final HTTP outcome to a failure; nullopt for a 2xx without transport error. `service`
// names the API (for 403), `context` the request, `d` its deadline (a transport error after it
// is deadline_exceeded).
std::optional<failure> http_failure(const std::error_code& ec, const net::response& resp, std::string_view method,
                                    std::string_view target, const char* service, std::string_view context,
                                    bp::deadline d);

}  // namespace bp::percipio::detail
