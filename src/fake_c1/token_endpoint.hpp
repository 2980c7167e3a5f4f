#pragma once
// POST /auth/v1/token (c1-service-mode.md 4.1-4.3, 15.1): OAuth2 client credentials with a
// private_key_jwt assertion. 200 with an access token, 401 on any mismatch.
#include <memory>

#include "baton_percipio/httpd/server.hpp"
#include "state.hpp"

namespace bp::fake_c1::detail {

httpd::handler make_token_handler(std::shared_ptr<state> st);

}  // namespace bp::fake_c1::detail
