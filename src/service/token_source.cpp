// Token requests on a private io_context: the service runs synchronously on its own threads, so
// each fetch drives the shared HTTPS client to completion here, bounded by the request timeout.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "baton_percipio/service/token_source.hpp"

#include <simdjson.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/client.hpp"
#include "baton_percipio/net/task_group.hpp"
#include "baton_percipio/service/client_assertion.hpp"

#ifndef BP_VERSION
#define BP_VERSION "dev"
#endif

namespace bp::service {
namespace {

namespace od = simdjson::ondemand;

constexpr auto renew_margin = std::chrono::seconds(10);
constexpr std::string_view check_settings =
    "check --client-id / BATON_CLIENT_ID and --client-secret / BATON_CLIENT_SECRET";

// application/x-www-form-urlencoded as Go's url.QueryEscape writes it.
void append_form_value(std::string& out, std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
}

// Printable ASCII only, at most 200 characters, registered secrets removed: server text that goes
// into an error message.
std::string sanitize(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return bp::log::redact(out);
}

struct token_reply {
  std::string access_token;
  std::string token_type;
  std::int64_t expires_in = 0;
};

// The 200 reply; nullopt and a reason when it is not the JSON object we expect.
std::optional<token_reply> parse_reply(std::string_view body, std::string& why) {
  simdjson::padded_string json(body);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj) != simdjson::SUCCESS) {
    why = "the body is not a valid JSON object";
    return std::nullopt;
  }
  token_reply r;
  bool has_token = false;
  bool has_expiry = false;
  for (auto member : obj) {
    od::field f;
    std::string_view key;
    if (std::move(member).get(f) != simdjson::SUCCESS || f.unescaped_key().get(key) != simdjson::SUCCESS) {
      why = "the body is not a valid JSON object";
      return std::nullopt;
    }
    if (key == "access_token") {
      std::string_view v;
      if (f.value().get_string().get(v) != simdjson::SUCCESS) {
        why = "access_token is not a string";
        return std::nullopt;
      }
      r.access_token = std::string(v);
      has_token = true;
    } else if (key == "token_type") {
      std::string_view v;
      if (f.value().get_string().get(v) != simdjson::SUCCESS) {
        why = "token_type is not a string";
        return std::nullopt;
      }
      r.token_type = std::string(v);
    } else if (key == "expires_in") {
      if (f.value().get_int64().get(r.expires_in) != simdjson::SUCCESS) {
        why = "expires_in is not an integer";
        return std::nullopt;
      }
      has_expiry = true;
    }
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    why = "the body is not a valid JSON object";
    return std::nullopt;
  }
  if (!has_token || r.access_token.empty()) {
    why = "access_token is missing or empty";
    return std::nullopt;
  }
  if (!has_expiry) {
    why = "expires_in is missing";
    return std::nullopt;
  }
  if (r.expires_in < 0) r.expires_in = 0;
  return r;
}

// "invalid_client: the assertion expired" from an OAuth error reply, or "" when there is none.
std::string oauth_error(std::string_view body) {
  simdjson::padded_string json(body);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj) != simdjson::SUCCESS) return {};
  std::string error, description;
  for (auto member : obj) {
    od::field f;
    std::string_view key, v;
    if (std::move(member).get(f) != simdjson::SUCCESS || f.unescaped_key().get(key) != simdjson::SUCCESS) return {};
    if ((key == "error" || key == "error_description") && f.value().get_string().get(v) == simdjson::SUCCESS) {
      (key == "error" ? error : description) = std::string(v);
    }
  }
  if (error.empty()) return {};
  return sanitize(description.empty() ? error : error + ": " + description);
}

}  // namespace

std::string token_request_body(const client_id& id, std::string_view assertion) {
  std::string out;
  out.reserve(assertion.size() + id.full.size() + 200);
  out += "client_assertion=";
  append_form_value(out, assertion);
  out += "&client_assertion_type=";
  append_form_value(out, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  out += "&client_id=";
  append_form_value(out, id.full);
  out += "&grant_type=client_credentials";
  return out;
}

struct token_source::impl {
  impl(credentials c, token_options o, steady_now s, wall_now w)
      : creds(std::move(c)),
        opts(std::move(o)),
        steady(s ? std::move(s) : steady_now([] { return std::chrono::steady_clock::now(); })),
        wall(w ? std::move(w) : wall_now([] { return std::chrono::system_clock::now(); })),
        url_text("https://" + opts.api.host_port() + "/auth/v1/token"),
        http(io.get_executor(), client_options_for(opts)) {
    auto u = net::url::parse(url_text);
    if (!u) throw std::runtime_error("cannot build the ConductorOne token URL from the API host");
    url = *u;
  }

  static net::client_options client_options_for(const token_options& o) {
    net::client_options c;
    c.ca_file = o.ca_file;
    c.proxy = o.proxy;
    c.user_agent = o.user_agent.empty() ? std::string("baton-percipio/") + BP_VERSION : o.user_agent;
    c.max_connections_per_host = 1;
    c.max_body_bytes = 1u << 20;  // a token reply is a few KiB
    return c;
  }

  // One POST, driven to completion on the private io_context. Called with mu held.
  result<std::string> fetch() {
    const auto started = steady();
    std::string assertion = make_client_assertion(creds.id, creds.key, wall());
    bp::log::add_secret(assertion);
    // The assertion is used by this one request only: forgotten again when it is done.
    struct forget {
      const std::string& s;
      ~forget() { bp::log::remove_secret(s); }
    } forget_assertion{assertion};
    net::request req;
    req.method = "POST";
    req.u = url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    req.body = token_request_body(creds.id, assertion);
    ++count.requests;

    std::optional<std::pair<std::error_code, net::response>> out;
    // A stop request cancels the request in flight; a request made while stopping (the FinishTask
    // that reports the cancelled task) gets a short deadline instead of the full timeout.
    const bool stopping = opts.stop.stop_requested();
    std::atomic<bool> stop_now{false};
    std::optional<std::stop_callback<std::function<void()>>> on_stop;
    if (!stopping && opts.stop.stop_possible()) on_stop.emplace(opts.stop, [&stop_now] { stop_now = true; });
    const auto timeout = stopping ? std::min(opts.timeout, std::chrono::milliseconds(5000)) : opts.timeout;
    const bp::deadline d = bp::steady_clock::now() + timeout;
    io.restart();
    net::task_group group(io.get_executor());
    auto request = [&]() -> asio::awaitable<void> { out = co_await http.async_request(std::move(req), d); };
    group.spawn(request());
    bool cancelled = false;
    // Until our request completes (leftover timers of earlier requests may still be queued).
    while (group.running() > 0) {
      if (io.run_one_for(std::chrono::milliseconds(50)) == 0 && io.stopped()) io.restart();
      if (!cancelled && stop_now.load()) {
        cancelled = true;
        group.cancel();
      }
    }
    if (!out) throw std::logic_error("token request ended without a result");
    auto& [ec, resp] = *out;

    const std::string where = "ConductorOne token request to " + url.str();
    if (ec) {
      std::string msg = where + " failed: " + ec.message();
      if (!resp.error_detail.empty()) msg += " (" + sanitize(resp.error_detail) + ")";
      http.close_idle();
      return make_failure(errc::unavailable, std::move(msg));
    }
    if (resp.status != 200) {
      std::string detail = oauth_error(resp.body);
      std::string status = "HTTP " + std::to_string(resp.status) + (detail.empty() ? "" : ", " + detail);
      if (resp.status == 400 || resp.status == 401 || resp.status == 403) {
        return make_failure(errc::auth_failed,
                            "ConductorOne refused the client credentials (" + status + "): " + std::string(check_settings));
      }
      return make_failure(errc::unavailable, where + " failed (" + status + ")");
    }
    std::string why;
    auto reply = parse_reply(resp.body, why);
    if (!reply) {
      return make_failure(errc::unavailable, where + " returned an unexpected reply: " + why);
    }
    bp::log::add_secret(reply->access_token);
    if (!token.empty() && token != reply->access_token) bp::log::remove_secret(token);  // replaced
    token = reply->access_token;
    std::string type = reply->token_type.empty() || ascii::iequals(reply->token_type, "bearer") ? "Bearer" : reply->token_type;
    cached = type + " " + reply->access_token;
    expires_at = started + std::chrono::seconds(reply->expires_in);
    bp::log::debug("ConductorOne access token obtained", {{"expires_in_seconds", reply->expires_in}});
    return cached;
  }

  credentials creds;
  token_options opts;
  steady_now steady;
  wall_now wall;
  std::string url_text;
  net::url url;
  asio::io_context io;
  net::client http;
  mutable std::mutex mu;
  std::string cached;  // "Bearer <token>", empty when there is none
  std::string token;   // the access token in `cached`, registered as a secret
  std::chrono::steady_clock::time_point expires_at{};
  counters count;
};

token_source::token_source(credentials creds, token_options opts, steady_now steady, wall_now wall)
    : impl_(std::make_unique<impl>(std::move(creds), std::move(opts), std::move(steady), std::move(wall))) {}

token_source::~token_source() = default;

result<std::string> token_source::authorization() {
  std::lock_guard lk(impl_->mu);
  if (!impl_->cached.empty() && impl_->expires_at - impl_->steady() > renew_margin) return impl_->cached;
  impl_->cached.clear();
  return impl_->fetch();
}

void token_source::invalidate() {
  std::lock_guard lk(impl_->mu);
  impl_->cached.clear();
}

token_source::counters token_source::stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->count;
}

}  // namespace bp::service
