#include "state.hpp"

#include "baton_percipio/core/base64url.hpp"
#include "crypto.hpp"

namespace bp::fake_c1::detail {

state::state(options o) : opts(std::move(o)), log(opts.log_path) {
  fault = opts.fault;
  queue.assign(opts.tasks.begin(), opts.tasks.end());
}

std::string state::issue_token_locked(const std::string& client_id, std::chrono::seconds lifetime) {
  std::string token = base64url_encode(random_bytes(32));
  tokens[token] = {client_id, now() + lifetime};
  ++counts.tokens_issued;
  return token;
}

std::string state::check_bearer_locked(std::string_view authorization) const {
  if (authorization.empty()) return "missing authorization metadata";
  auto space = authorization.find(' ');
  if (space == std::string_view::npos) return "authorization is not '<type> <token>'";
  std::string_view type = authorization.substr(0, space);
  std::string_view token = authorization.substr(space + 1);
  std::string lower;
  for (char c : type) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower != "bearer") return "authorization type is not Bearer";
  auto it = tokens.find(std::string(token));
  if (it == tokens.end()) return "unknown access token";
  if (now() >= it->second.expires) return "access token expired";
  return {};
}

}  // namespace bp::fake_c1::detail
