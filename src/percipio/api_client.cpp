#include "baton_percipio/percipio/api_client.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Construction and counters of the API client; the report entry point. The lists are in
// paging.cpp, the report's logic in report_job.cpp.
#include "client_impl.hpp"
#include "report_job.hpp"

namespace bp::percipio {

api_client::api_client(asio::any_io_executor ex, net::client& http, client_config cfg)
    : impl_(std::make_unique<impl>(ex, http, std::move(cfg))) {}

api_client::~api_client() = default;

net::adaptive_limiter& api_client::limiter() { return impl_->lim; }

api_counters api_client::counters() const {
  const auto& m = *impl_;
  api_counters c;
  c.requests = m.rs.attempts.load() + m.direct_requests;
  c.retries = m.rs.retries.load();
  c.rate_limited = m.rs.rate_limited.load() + m.direct_429;
  c.bytes = m.rs.bytes_received.load() + m.direct_bytes;
  c.pages = m.pages;
  c.report_polls = m.polls;
  return c;
}

asio::awaitable<result<report_summary>> api_client::async_report(bp::deadline d, rows_handler on_rows) {
  detail::report_job job(*impl_, d, std::move(on_rows));
  co_return co_await job.run();
}

}  // namespace bp::percipio
