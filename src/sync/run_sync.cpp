// run_sync: one sync as a process step. It owns the c1z writer, the writer thread, the io context
// with the HTTP and Percipio clients, signal handling, the progress loop, the hard stop, and turns
// every failure into a sync_error and a summary.
#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <csignal>
#include <functional>
#include <optional>

#include "baton_percipio/c1z/error.hpp"
#include "baton_percipio/c1z/writer.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/task_group.hpp"
#include "baton_percipio/sync/run.hpp"
#include "batch_apply.hpp"
#include "hard_stop.hpp"
#include "pipeline.hpp"
#include "process_usage.hpp"
#include "progress.hpp"
#include "writer_thread.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace bp::sync {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using detail::cpu_seconds;
using detail::peak_rss_bytes;
using detail::pipeline;
using detail::record_batch;

// Progress and external stop requests, polled on the io thread until `stopping` or a cancel.
awaitable<void> progress_loop(percipio::api_client& api, const options& opts, const run_control& ctl,
                              progress_state& prog, std::atomic<std::uint64_t>& rows_written, const bool& stopping,
                              const std::function<void(const char*)>& request_cancel) {
  progress_reporter reporter(opts.progress, opts.progress_interval);
  asio::steady_timer tick(co_await asio::this_coro::executor);
  while (!stopping) {
    tick.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await tick.async_wait(as_tuple(use_awaitable));
    if (ec == asio::error::operation_aborted || stopping) break;
    if (ctl.stop && ctl.stop->stop_requested()) request_cancel("stop requested");
    auto c = api.counters();
    prog.requests = c.requests;
    prog.bytes = c.bytes;
    prog.report_polls = c.report_polls;
    prog.rows_written = rows_written.load(std::memory_order_relaxed);
    reporter.tick(prog);
  }
  reporter.finish();
}

// The io side of one sync: the pipeline's fetchers and the progress loop, as one structured task.
// Everything it starts has finished when it completes, also after a failure or a cancellation.
awaitable<void> supervise(pipeline& p, bp::deadline d, percipio::api_client& api, const options& opts,
                          const run_control& ctl, progress_state& prog, std::atomic<std::uint64_t>& rows_written,
                          bool& stopping, const std::function<void(const char*)>& request_cancel) {
  net::task_group group(co_await asio::this_coro::executor);
  group.spawn(progress_loop(api, opts, ctl, prog, rows_written, stopping, request_cancel));
  std::exception_ptr failure;
  // A stop requested before the sync began is honoured before the first request.
  if (ctl.stop && ctl.stop->stop_requested()) request_cancel("stop requested");
  try {
    co_await p.run(d);
  } catch (...) {
    failure = std::current_exception();
  }
  stopping = true;
  group.cancel();
  co_await group.join();  // rethrows a failure of the progress loop
  if (failure) std::rethrow_exception(failure);
}

// Tears down an io_context whose run() was stopped with work pending: destroys the suspended
// coroutine frames (and what they own) now, while the objects they reference still exist.
class sync_io_context : public asio::io_context {
 public:
  void destroy_pending_work() { shutdown(); }
};

}  // namespace

summary run_sync(const options& opts, const run_control& ctl, summary* last_summary) {
  const auto t0 = steady_clock::now();
  const double cpu0 = cpu_seconds();
  summary s;
  s.file = opts.destination.string();
  auto finish_summary = [&](bool ok, std::string error) {
    s.ok = ok;
    s.error = std::move(error);
    s.wall_seconds = std::chrono::duration<double>(steady_clock::now() - t0).count();
    s.cpu_seconds = cpu_seconds() - cpu0;
    s.peak_rss_bytes = peak_rss_bytes();
    if (last_summary) *last_summary = s;
  };

  std::unique_ptr<c1z::writer> w;
  try {
    c1z::writer_options wo;
    wo.destination = opts.destination;
    wo.temp_dir = opts.temp_dir;
    wo.file_mode = opts.file_mode;
    wo.batch_size = opts.writer_batch_size;
    wo.page_size = opts.writer_page_size;
    wo.overlap_compression = opts.writer_overlap_compression;
    // Users and courses are de-duplicated by id here, and a (user, course) pair gets one grant at a
    // time, never re-added (pair_table).
    wo.ids_unique = true;
    if (ctl.stop) wo.stop_requested = [stop = ctl.stop] { return stop->stop_requested(); };
    w = std::make_unique<c1z::writer>(wo);
  } catch (const c1z::error& e) {
    finish_summary(false, e.what());
    throw sync_error(failure_kind::output, e.what());
  }
  s.sync_id = w->sync_id();
  log::set_sync_id(s.sync_id);
  log::info("sync started", {{"file", s.file}, {"organization_id", opts.api.org_id}});

  std::atomic<std::uint64_t> rows_written{0};
  std::exception_ptr sync_failure;
  std::exception_ptr writer_failure;
  progress_state prog;
  try {
    // Owns SQLite through `w`; joined on every path out of this block.
    detail::writer_thread writer(opts.queue_batches, [&](record_batch& b, std::string& buf) {
      detail::apply(*w, b, buf, rows_written);
    });
    sync_io_context io;
    {
      net::client http(io.get_executor(), opts.http);
      pipeline* pipe = nullptr;
      auto api_cfg = opts.api;
      api_cfg.max_report_bytes = opts.max_report_bytes;
      api_cfg.on_report_restart = [&pipe] {
        if (pipe) pipe->restart_row_statistics();
      };
      percipio::api_client api(io.get_executor(), http, api_cfg);
      pipeline p(opts, api, writer.channel(), s, prog);
      pipe = &p;
      const bp::deadline d = step_deadline(no_deadline, opts.sync_timeout);

      asio::cancellation_signal cancel;
      bool done = false;
      bool stopping = false;
      bool cancelling = false;
      detail::hard_stop backstop(io, std::chrono::seconds(3));
      std::optional<asio::signal_set> signals;
      std::function<void(const char*)> request_cancel = [&](const char* why) {
        if (cancelling || done) return;
        cancelling = true;
        log::warn("cancelling sync", {{"reason", why}});
        cancel.emit(asio::cancellation_type::terminal);
        // Anything that ignores cancellation still ends: the io context is stopped after a grace
        // period unless it has drained by then.
        backstop.arm();
      };
      if (ctl.handle_signals) {
        signals.emplace(io, SIGINT, SIGTERM);
        signals->async_wait([&](asio::error_code ec, int sig) {
          if (!ec) request_cancel(sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
        });
      }
      asio::co_spawn(io, supervise(p, d, api, opts, ctl, prog, rows_written, stopping, request_cancel),
                     asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                       done = true;
                       sync_failure = e;
                       if (signals) signals->cancel();
                     }));
      io.run();
      backstop.drained();
      if (!done) {
        // The backstop fired: frames are still suspended. Destroy them while api, http and the
        // pipeline they point into are alive.
        io.destroy_pending_work();
        sync_failure = std::make_exception_ptr(sync_error(failure_kind::cancelled, "sync cancelled"));
      }

      auto c = api.counters();
      s.requests = c.requests;
      s.retries = c.retries;
      s.rate_limited = c.rate_limited;
      s.bytes_downloaded = c.bytes;
      s.report_polls = c.report_polls;
    }
    if (sync_failure) writer.discard();  // wakes the writer; whatever is still buffered is dropped
    writer.join();
    writer_failure = writer.error();
  } catch (...) {
    // Setup failed (for example the TLS context); the writer thread was joined on the way out.
    if (!sync_failure) sync_failure = std::current_exception();
  }

  try {
    if (writer_failure) std::rethrow_exception(writer_failure);
    if (sync_failure) std::rethrow_exception(sync_failure);
  } catch (const c1z::error& e) {
    w->abort();
    finish_summary(false, e.what());
    throw sync_error(failure_kind::output, e.what());
  } catch (const sync_error& e) {
    w->abort();
    finish_summary(false, e.what());
    throw;
  } catch (const std::system_error& e) {
    w->abort();
    const bool cancelled = e.code() == asio::error::operation_aborted;
    finish_summary(false, cancelled ? "sync cancelled" : e.what());
    throw sync_error(cancelled ? failure_kind::cancelled : failure_kind::internal,
                     cancelled ? "sync cancelled" : e.what());
  } catch (const std::exception& e) {
    w->abort();
    finish_summary(false, e.what());
    throw sync_error(failure_kind::internal, e.what());
  }

  try {
    const auto f0 = steady_clock::now();
    auto fr = w->finish();
    s.finish_seconds = std::chrono::duration<double>(steady_clock::now() - f0).count();
    s.file_bytes = fr.file_bytes;
    s.database_bytes = fr.database_bytes;
    s.index_seconds = fr.index_seconds;
    s.compress_seconds = fr.compress_seconds;
  } catch (const c1z::cancelled&) {
    finish_summary(false, "sync cancelled");
    throw sync_error(failure_kind::cancelled, "sync cancelled");
  } catch (const c1z::error& e) {
    finish_summary(false, e.what());
    throw sync_error(failure_kind::output, e.what());
  }
  finish_summary(true, "");
  log::info("sync finished", {{"users", s.users}, {"courses", s.courses}, {"grants", s.grants()},
                              {"seconds", s.wall_seconds}});
  return s;
}

}  // namespace bp::sync
