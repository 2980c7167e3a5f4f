#include "report_download.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <fmt/format.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "client_impl.hpp"

namespace bp::percipio::detail {
namespace {

constexpr std::size_t sniff_limit = 256 * 1024;       // error pages and status objects fit below this
constexpr std::size_t max_buffered_body = 4u << 20;  // a non-array body larger than this is malformed
// Backpressure: the download pauses while this many parsed batches (about 4096 rows each) wait
// for on_rows, so a report of any size needs bounded memory when the consumer is slower.
constexpr std::size_t max_pending_batches = 4;

}  // namespace

report_download::report_download(api_client::impl& m, const std::string& target, bp::deadline rd,
                                 const rows_handler& on_rows)
    : m_(m),
      target_(target),
      rd_(rd),
      on_rows_(on_rows),
      wake_(m.ex, bp::steady_clock::time_point::max()),
      space_(m.ex, bp::steady_clock::time_point::max()),
      parser_(
          [this](std::span<const report_row> rows) {
            pending_.emplace_back(rows.begin(), rows.end());
            wake_.cancel();
          },
          "report " + target.substr(target.rfind('/') + 1)) {}

std::error_code report_download::on_chunk(std::string_view chunk) {
  received_ += chunk.size();
  if (m_.cfg.max_report_bytes != 0 && received_ > m_.cfg.max_report_bytes) {
    too_large_ = true;  // an endless or oversized body: stop reading, fail without retrying
    return make_error_code(errc::report_failed);
  }
  if (!streaming_) {
    prefix_.append(chunk);
    const body_kind k = classify_report_body(prefix_);
    if (k == body_kind::array && prefix_.size() >= sniff_limit) {
      streaming_ = true;
      chunk = prefix_;
    } else {
      if (prefix_.size() > max_buffered_body) return make_error_code(errc::malformed_response);
      return {};
    }
  }
  auto r = parser_.feed(chunk);
  if (streaming_ && !prefix_.empty()) prefix_.clear();
  if (!r) {
    parse_failure_ = r.error();
    return make_error_code(errc::malformed_response);
  }
  return {};
}

asio::awaitable<void> report_download::wait_for_space() {
  while (pending_.size() >= max_pending_batches) {
    space_.expires_at(bp::steady_clock::time_point::max());
    std::error_code ec;
    co_await space_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
      throw std::system_error(make_error_code(asio::error::operation_aborted));
  }
}

asio::awaitable<void> report_download::download() {
  net::body_sink sink = [this](std::string_view chunk) { return on_chunk(chunk); };
  net::read_gate gate = [this]() { return wait_for_space(); };
  auto req = m_.make_request("GET", target_);
  std::pair<std::error_code, net::response> res;
  if (req) {
    auto [lec, permit] = co_await m_.lim.async_acquire(rd_);
    if (lec) {
      res.first = lec;
    } else {
      ++m_.direct_requests;
      out_.sent_epoch = m_.lim.epoch();
      res = co_await m_.http.async_request(std::move(*req), rd_, sink, gate);
      if (res.second.first_byte_at) permit.release(*res.second.first_byte_at);  // counted from its answer
    }
  }
  out_.ec = res.first;
  out_.resp = std::move(res.second);
  download_done_ = true;
  wake_.cancel();
}

asio::awaitable<void> report_download::consume() {
  for (;;) {
    while (!pending_.empty()) {
      auto batch = std::move(pending_.front());
      pending_.pop_front();
      space_.cancel();  // wakes a download waiting in wait_for_space()
      co_await on_rows_(std::span<const report_row>(batch));
    }
    if (download_done_) break;
    std::error_code ec;
    wake_.expires_at(bp::steady_clock::time_point::max());
    if (!pending_.empty()) continue;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void report_download::finish_rows() {
  auto r = parser_.finish();
  if (!r) {
    out_.k = poll_outcome::kind::bad_array;
    out_.message = r.error().message;
    return;
  }
  // Rows flushed by finish() are delivered by the drain at the end of run().
  out_.k = poll_outcome::kind::rows_done;
}

void report_download::classify() {
  using kind = poll_outcome::kind;
  const int status = out_.resp.status;
  const bool ok_status = !out_.ec && status >= 200 && status < 300;
  if (too_large_) {
    out_.k = kind::too_large;
    out_.message = fmt::format("report larger than max-report-bytes ({} bytes); raise --max-report-bytes",
                               m_.cfg.max_report_bytes);
  } else if (parse_failure_) {
    out_.k = kind::bad_array;
    out_.message = parse_failure_->message;
  } else if (streaming_) {
    if (ok_status) finish_rows();
    else if (out_.ec) {
      out_.k = kind::bad_array;
      out_.message = fmt::format("report download interrupted: {}", out_.ec.message());
    } else {
      out_.k = kind::http;
    }
  } else if (out_.ec) {
    out_.k = kind::transport;
    if (classify_report_body(prefix_) == body_kind::array) {
      out_.k = kind::bad_array;
      out_.message = fmt::format("report download interrupted: {}", out_.ec.message());
    }
  } else if (!ok_status) {
    out_.k = kind::http;
    out_.resp.body = std::move(prefix_);
  } else {
    switch (classify_report_body(prefix_)) {
      case body_kind::array: {
        auto r = parser_.feed(prefix_);
        if (!r) {
          out_.k = kind::bad_array;
          out_.message = r.error().message;
        } else {
          finish_rows();
        }
        break;
      }
      case body_kind::object: {
        auto s = parse_report_status(prefix_, "report poll");
        if (s) {
          out_.k = kind::status;
          out_.status = std::move(*s);
        } else {
          out_.k = kind::malformed;
          out_.message = s.error().message;
        }
        break;
      }
      case body_kind::empty: out_.k = kind::empty; break;
      case body_kind::malformed:
        out_.k = kind::malformed;
        out_.message = fmt::format("report poll: 200 with a non-JSON body: {}", summarize_error_body(prefix_, 80));
        break;
    }
  }
}

asio::awaitable<poll_outcome> report_download::run() {
  using namespace asio::experimental::awaitable_operators;
  co_await (download() && consume());
  // Counted before classify(): a buffered error body moves out of prefix_ there.
  m_.direct_bytes += parser_.statistics().bytes + prefix_.size();
  classify();
  // Rows produced after the consumer stopped (finish(), or a buffered small array).
  while (!pending_.empty()) {
    auto batch = std::move(pending_.front());
    pending_.pop_front();
    co_await on_rows_(std::span<const report_row>(batch));
  }
  out_.rows = parser_.statistics();
  co_return std::move(out_);
}

}  // namespace bp::percipio::detail
