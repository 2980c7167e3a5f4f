#pragma once
// One poll or download GET of a report: the body is sniffed; a report array is streamed through
// the row parser to the caller's handler (with backpressure), any other body (status object,
// error page) is buffered, bounded. The outcome says which it was; the report job decides what
// follows.
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "baton_percipio/percipio/api_client.hpp"
#include "baton_percipio/percipio/parse.hpp"
#include "baton_percipio/percipio/report_stream_parser.hpp"

namespace bp::percipio::detail {

struct poll_outcome {
  enum class kind { rows_done, status, empty, malformed, bad_array, too_large, http, transport } k = kind::transport;
  report_status status;
  std::string message;
  std::error_code ec;
  net::response resp;  // headers/status (body only when buffered)
  std::uint64_t sent_epoch = 0;  // the limiter's epoch when the GET got its permit
  report_stream_parser::stats rows;  // of the parser; meaningful for rows_done
};

class report_download {
 public:
  // `target` is the report URL's request target; `rd` the report deadline.
  report_download(api_client::impl& m, const std::string& target, bp::deadline rd, const rows_handler& on_rows);
  report_download(const report_download&) = delete;
  report_download& operator=(const report_download&) = delete;

  // Runs the GET once; rows are delivered to on_rows while the body streams in.
  asio::awaitable<poll_outcome> run();

 private:
  std::error_code on_chunk(std::string_view chunk);
  asio::awaitable<void> wait_for_space();
  asio::awaitable<void> download();
  asio::awaitable<void> consume();
  void classify();
  void finish_rows();

  api_client::impl& m_;
  const std::string& target_;
  bp::deadline rd_;
  const rows_handler& on_rows_;
  poll_outcome out_;
  std::string prefix_;  // the sniffed (or whole buffered) body until streaming starts
  bool streaming_ = false;
  bool too_large_ = false;
  bool download_done_ = false;
  std::uint64_t received_ = 0;
  std::optional<failure> parse_failure_;
  std::deque<std::vector<report_row>> pending_;  // parsed batches not yet handed to on_rows
  asio::steady_timer wake_;   // wakes consume(): rows parsed or download done
  asio::steady_timer space_;  // wakes a download paused in wait_for_space()
  report_stream_parser parser_;
};

}  // namespace bp::percipio::detail
