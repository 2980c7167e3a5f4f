#include "token_endpoint.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "baton_percipio/core/json_writer.hpp"
#include "baton_percipio/fake_c1/credentials.hpp"
#include "jws.hpp"

namespace bp::fake_c1::detail {
namespace {

// Accepted clock skew between the client and the fake for nbf/iat.
constexpr std::int64_t leeway_seconds = 30;
// An assertion issued longer ago than this is stale even if exp says otherwise.
constexpr std::int64_t max_assertion_age_seconds = 600;

struct outcome {
  int status = 401;
  std::string reason;  // empty: accepted
  std::string client_id;
};

const std::string* form_value(const std::vector<httpd::query_param>& form, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& p : form) {
    if (p.name != name) continue;
    if (found != nullptr) return nullptr;  // a repeated field is ambiguous: treat as missing
    found = &p.value;
  }
  return found;
}

outcome check_request(state& st, const httpd::request& req) {
  outcome o;
  auto ctype = req.header_value("content-type");
  if (ctype.substr(0, ctype.find(';')) != "application/x-www-form-urlencoded") {
    o.status = 400;
    o.reason = "content type is not application/x-www-form-urlencoded";
    return o;
  }
  auto form = httpd::parse_query(req.body);
  const std::string* client_id = form_value(form, "client_id");
  const std::string* grant_type = form_value(form, "grant_type");
  const std::string* assertion_type = form_value(form, "client_assertion_type");
  const std::string* assertion = form_value(form, "client_assertion");
  if (client_id != nullptr) o.client_id = *client_id;
  if (grant_type == nullptr || *grant_type != "client_credentials") {
    o.reason = "grant_type is not client_credentials";
    return o;
  }
  if (assertion_type == nullptr || *assertion_type != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
    o.reason = "client_assertion_type is not jwt-bearer";
    return o;
  }
  if (client_id == nullptr || assertion == nullptr) {
    o.reason = "client_id or client_assertion missing";
    return o;
  }
  std::string public_key;
  {
    std::lock_guard lock(st.mu);
    auto it = st.clients.find(*client_id);
    if (it == st.clients.end()) {
      o.reason = "unknown client_id";
      return o;
    }
    public_key = it->second;
  }
  auto checked = verify_assertion(*assertion, public_key);
  if (!checked.ok) {
    o.reason = checked.reason;
    return o;
  }
  const auto& c = checked.claims;
  if (c.iss != *client_id || c.sub != *client_id) {
    o.reason = "iss/sub is not the client id";
    return o;
  }
  if (c.aud != client_id_audience(*client_id).value_or("")) {
    o.reason = "aud is not the client id's host";
    return o;
  }
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(st.now().time_since_epoch()).count();
  if (c.exp <= now) {
    o.reason = "assertion expired";
  } else if (c.nbf > now + leeway_seconds) {
    o.reason = "assertion not yet valid";
  } else if (c.iat > now + leeway_seconds) {
    o.reason = "assertion issued in the future";
  } else if (c.iat < now - max_assertion_age_seconds) {
    o.reason = "assertion too old";
  } else {
    o.status = 200;
  }
  return o;
}

std::string error_body(std::string_view error, std::string_view description) {
  std::string body;
  json::writer w(body);
  w.begin_object().key("error").value(error).key("error_description").value(description).end_object();
  return body;
}

httpd::header_list json_headers() { return {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}; }

asio::awaitable<void> handle(std::shared_ptr<state> st, const httpd::request& req, httpd::response_writer& w) {
  if (req.path != "/auth/v1/token") {
    co_await w.async_send(404, json_headers(), error_body("not_found", "no such endpoint"));
    co_return;
  }
  if (req.method != "POST") {
    co_await w.async_send(405, json_headers(), error_body("invalid_request", "POST only"));
    co_return;
  }
  faults f;
  {
    std::lock_guard lock(st->mu);
    f = st->fault;
  }
  if (f.token_delay.count() > 0) {
    asio::steady_timer t(co_await asio::this_coro::executor, f.token_delay);
    co_await t.async_wait(asio::use_awaitable);
  }

  outcome o = check_request(*st, req);
  if (o.status == 200 && f.token_reject) {
    o.status = 401;
    o.reason = "rejected by fault injection";
  }
  if (f.token_status != 0) {
    o.status = f.token_status;
    o.reason = "status set by fault injection";
  }
  std::string token;
  const std::int64_t expires_in = st->opts.token_lifetime.count();
  st->update([&] {
    if (o.status == 200) token = st->issue_token_locked(o.client_id, st->opts.token_lifetime);
    token_request_record r;
    r.at = std::chrono::steady_clock::now();
    r.client_id = o.client_id;
    r.status = o.status;
    r.reason = o.reason;
    r.expires_in = o.status == 200 ? expires_in : 0;
    st->token_requests.push_back(std::move(r));
    ++st->counts.token_requests;
  });
  st->log.write("Token", [&](json::writer& j) {
    j.key("client_id").value(o.client_id).key("status").value(o.status);
    if (!o.reason.empty()) j.key("reason").value(o.reason);
    if (o.status == 200) j.key("expires_in").value(expires_in);
  });

  if (o.status != 200) {
    const char* error = o.status == 401 ? "invalid_client" : o.status == 400 ? "invalid_request" : "server_error";
    co_await w.async_send(o.status, json_headers(), error_body(error, o.reason));
    co_return;
  }
  std::string body;
  json::writer j(body);
  j.begin_object()
      .key("access_token").value(token)
      .key("token_type").value("Bearer")
      .key("expires_in").value(expires_in)
      .end_object();
  co_await w.async_send(200, json_headers(), body);
}

}  // namespace

httpd::handler make_token_handler(std::shared_ptr<state> st) {
  return [st](const httpd::request& req, httpd::response_writer& w) { return handle(st, req, w); };
}

}  // namespace bp::fake_c1::detail
