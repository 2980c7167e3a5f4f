#pragma once
// The learning-activity report as a job: POST a report request (retried only when it surely
// created nothing), poll its URL with doubling delays until the rows arrive, download them again
// after a broken download, and request a new job after a 404 or repeated broken downloads.
#include <asio/awaitable.hpp>
#include <string>

#include "baton_percipio/percipio/api_client.hpp"

namespace bp::percipio::detail {

struct poll_outcome;

class report_job {
 public:
  // `d` is the sync's deadline; the job also ends at cfg.report_timeout.
  report_job(api_client::impl& m, bp::deadline d, rows_handler on_rows);
  report_job(const report_job&) = delete;
  report_job& operator=(const report_job&) = delete;

  asio::awaitable<result<report_summary>> run();

 private:
  // POSTs a new report request; its report id.
  asio::awaitable<result<std::string>> post();
  failure timeout_failure() const;

  api_client::impl& m_;
  bp::deadline d_;
  bp::deadline rd_;  // d_ or the report timeout, whichever comes first
  rows_handler on_rows_;
  std::string post_target_;
  report_summary sum_;
};

}  // namespace bp::percipio::detail
