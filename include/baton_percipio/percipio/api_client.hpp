#pragma once
// The Percipio REST client: users (parallel offsets), catalog (paging id, parallel after page 1),
// search-content lookups, and the learning-activity report (POST, poll, stream). All requests go
// through bp::net::async_request_with_retry and one shared adaptive limiter. Single-threaded: use
// from the executor of the net::client.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/net/client.hpp"
#include "baton_percipio/net/limiter.hpp"
#include "baton_percipio/core/rate_limit.hpp"
#include "baton_percipio/net/retry.hpp"
#include "baton_percipio/percipio/error.hpp"
#include "baton_percipio/percipio/model.hpp"

namespace bp::percipio {

inline constexpr const char* us_base_url = "https://api.percipio.com";
inline constexpr const char* eu_base_url = "https://dew1-api.percipio.com";

struct client_config {
  std::string base_url = us_base_url;
  std::string org_id;
  std::string token;  // kept in memory only; sent as "Authorization: Bearer"; never logged
  std::size_t concurrency = 8;
  std::size_t page_size = 1000;
  // Shared request budget: at most N requests in any DURATION (spec 8.1: 100 per 20 s per service
  // account); disabled (requests 0) means no pacing. The CLI's --rate-limit.
  bp::rate_limit rate_limit = bp::percipio_rate_limit;
  // The budget's recent requests, shared by the consecutive syncs of one process (empty: none).
  std::shared_ptr<net::budget_history> budget_history;
  net::retry_policy retry;
  std::chrono::seconds report_lookback = std::chrono::hours(24 * 3650);
  std::chrono::milliseconds poll_initial{2000};  // first poll after this, then doubling
  std::chrono::milliseconds poll_max{60000};
  std::chrono::milliseconds report_timeout = std::chrono::hours(6);
  int post_attempts = 3;        // POST attempts without any response (429s follow the retry policy)
  int download_attempts = 3;    // same GET for a truncated/malformed report array
  int report_jobs = 2;          // first job plus one new job (after 404 or failed downloads)
  int max_bad_polls = 5;        // consecutive empty/non-JSON/odd poll bodies tolerated, then fail
  // Decoded bytes of one report download; a larger report fails the sync (report_failed) instead of
  // streaming forever. 0 = no limit. The CLI's --max-report-bytes.
  std::uint64_t max_report_bytes = 0;
  std::function<std::chrono::system_clock::time_point()> clock;  // report window; default system_clock
  // Called after a report download failed part-way: rows delivered so far will be delivered again
  // from the start, so per-row statistics should restart.
  std::function<void()> on_report_restart;
};

// Called once per page; may be entered by several page fetchers at once (they interleave only at
// co_await points) and in no particular order. Awaited, so a slow consumer slows the fetchers.
template <class T>
using page_handler = std::function<asio::awaitable<void>(std::vector<T>&&)>;
// Report rows in batches. After a failed download the report is fetched again (same GET or a new
// job) and rows are delivered again from the start: the handler must be idempotent per
// (user, content) pair, which an upsert into a map or table is.
using rows_handler = std::function<asio::awaitable<void>(std::span<const report_row>)>;

struct list_summary {
  std::uint64_t pages = 0;
  std::uint64_t items = 0;
};

struct lookup_result {
  std::vector<content_item> items;     // exact id matches, in the order of the ids
  std::vector<std::string> not_found;  // ids without an exact match (warnings, not failures)
};

struct report_summary {
  std::uint64_t rows = 0;          // rows delivered by the successful download
  std::uint64_t skipped_rows = 0;  // rows without usable ids
  std::uint64_t bytes = 0;
  int jobs = 0;                    // report jobs requested
  int downloads = 0;               // download attempts (restarts = downloads - 1)
};

struct api_counters {
  std::uint64_t requests = 0;  // attempts, including retries and polls
  std::uint64_t retries = 0;
  std::uint64_t rate_limited = 0;  // 429 answers
  std::uint64_t bytes = 0;         // decoded body bytes
  std::uint64_t pages = 0;         // users, catalog and search pages parsed
  std::uint64_t report_polls = 0;
};

class api_client {
 public:
  // `ex` must be the executor the net::client runs on (the shared limiter lives there too).
  api_client(asio::any_io_executor ex, net::client& http, client_config cfg);
  ~api_client();
  api_client(const api_client&) = delete;
  api_client& operator=(const api_client&) = delete;

  asio::awaitable<result<list_summary>> async_list_users(bp::deadline d, page_handler<user> on_page);
  asio::awaitable<result<list_summary>> async_list_catalog(bp::deadline d, page_handler<content_item> on_page);
  asio::awaitable<result<lookup_result>> async_lookup_courses(std::vector<std::string> ids, bp::deadline d);
  asio::awaitable<result<report_summary>> async_report(bp::deadline d, rows_handler on_rows);

  api_counters counters() const;
  net::adaptive_limiter& limiter();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::percipio
