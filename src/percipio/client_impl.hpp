#pragma once
// The state every part of the API client shares (configuration, HTTP client, limiter, counters)
// and how a request to a Percipio service is built. The parts: paging.cpp (users, catalog,
// search), report_job.cpp (the learning-activity report), api_client.cpp (construction, counters).
#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/percipio/api_client.hpp"

namespace bp::percipio {

namespace detail {
inline constexpr const char* users_service = "user-management";
inline constexpr const char* content_service = "content-discovery";
inline constexpr const char* reporting_service = "reporting";
}  // namespace detail

struct api_client::impl {
  asio::any_io_executor ex;
  net::client& http;
  client_config cfg;
  net::adaptive_limiter lim;
  net::retry_stats rs;
  std::uint64_t pages = 0;
  std::uint64_t polls = 0;
  // Report requests are sent without async_request_with_retry (their retries are the job's own),
  // so they are counted here.
  std::uint64_t direct_requests = 0;
  std::uint64_t direct_bytes = 0;
  std::uint64_t direct_429 = 0;

  impl(asio::any_io_executor e, net::client& h, client_config c)
      : ex(e), http(h), cfg(std::move(c)), lim(e, limiter_opts(cfg)) {
    while (!cfg.base_url.empty() && cfg.base_url.back() == '/') cfg.base_url.pop_back();
    if (cfg.page_size == 0) cfg.page_size = 1000;
    if (cfg.concurrency == 0) cfg.concurrency = 1;
    if (!cfg.token.empty()) log::add_secret(cfg.token);
  }

  static net::limiter_options limiter_opts(const client_config& c) {
    net::limiter_options o;
    o.max_concurrency = std::max<std::size_t>(1, c.concurrency);
    o.budget_requests = c.rate_limit.requests;
    o.budget_window = c.rate_limit.window;
    o.history = c.budget_history;
    return o;
  }

  std::string org_path(const char* service, std::string_view version, std::string_view rest) const {
    return fmt::format("/{}/{}/organizations/{}/{}", service, version, net::url_encode(cfg.org_id), rest);
  }

  std::optional<net::request> make_request(std::string method, const std::string& target) const {
    auto u = net::url::parse(cfg.base_url + target);
    if (!u) return std::nullopt;
    net::request r;
    r.method = std::move(method);
    r.u = std::move(*u);
    r.headers.push_back({"Authorization", "Bearer " + cfg.token});
    r.headers.push_back({"Accept", "application/json"});
    r.headers.push_back({"Cache-Control", "no-cache"});  // polls must never see a stale body
    return r;
  }
};

}  // namespace bp::percipio
