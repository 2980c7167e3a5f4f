// The sync pipeline: fetch coroutines on one io_context feed encoded rows through a bounded channel
// to one writer thread that owns SQLite. Users, catalog and the report start together; report rows
// that arrive before users and courses are known wait in early_rows (memory, then a temporary file),
// the rest become grants as they stream in.
#include <sys/resource.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "baton_percipio/c1z/error.hpp"
#include "baton_percipio/c1z/writer.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/task_group.hpp"
#include "baton_percipio/sync/mapping.hpp"
#include "baton_percipio/sync/run.hpp"
#include "early_rows.hpp"
#include "grant_order.hpp"
#include "hard_stop.hpp"
#include "pair_table.hpp"
#include "progress.hpp"
#include "record_batch.hpp"
#include "uuid_index.hpp"
#include "writer_thread.hpp"

namespace bp::sync {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::experimental::as_tuple;
using detail::record_batch;
using channel_t = detail::batch_channel;

failure_kind kind_of(const percipio::failure& f) {
  using percipio::errc;
  if (f.code == errc::auth_failed || f.code == errc::permission_denied) return failure_kind::auth;
  if (f.code == errc::cancelled) return failure_kind::cancelled;
  return failure_kind::upstream;
}

[[noreturn]] void throw_failure(const percipio::failure& f) { throw sync_error(kind_of(f), f.message); }

std::uint64_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Applies one batch to the c1z writer (writer thread only).
void apply(c1z::writer& w, record_batch& b, std::string& buf, std::atomic<std::uint64_t>& rows_written) {
  for (auto& u : b.users()) {
    buf.clear();
    const auto record = map_user(std::move(u));
    c1z::encode_resource(record, buf);
    w.add_resource(user_type, record.id, buf);
  }
  for (const auto& r : b.rows()) {
    auto f = [&](std::size_t i) { return b.field(r, i); };
    switch (r.kind) {
      case detail::row_kind::resource_type: w.add_resource_type(f(0), f(1)); break;
      case detail::row_kind::resource: w.add_resource(f(0), f(1), f(2)); break;
      case detail::row_kind::entitlement: w.add_entitlement(f(0), f(1), f(2), f(3)); break;
      case detail::row_kind::grant: w.add_grant(f(0), f(1), f(2), f(3), f(4), f(5), f(6)); break;
      case detail::row_kind::remove_grant: w.remove_grant(f(0)); break;
    }
  }
  if (b.objects_complete()) {
    const auto t0 = steady_clock::now();
    w.index_objects();
    log::info("resources and entitlements indexed",
              {{"seconds", std::chrono::duration<double>(steady_clock::now() - t0).count()}});
  }
  rows_written.fetch_add(b.size(), std::memory_order_relaxed);
}

struct course_entry {
  c1z::grant_encoder in_progress;
  c1z::grant_encoder completed;
  const c1z::grant_encoder& encoder(grant_slot s) const { return s == grant_slot::completed ? completed : in_progress; }
};

// State shared by the fetch coroutines. All of it lives on the io thread.
class pipeline {
 public:
  pipeline(const options& opts, percipio::api_client& api, channel_t& ch, summary& s, progress_state& prog)
      : opts_(opts),
        api_(api),
        ch_(ch),
        s_(s),
        prog_(prog),
        ready_(ch.get_executor()),
        early_(opts.temp_dir.empty() ? opts.destination.parent_path() : opts.temp_dir, opts.early_rows_in_memory) {}

  awaitable<void> run(bp::deadline d) {
    ready_ = asio::steady_timer(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await send_resource_types();
    auto ex = co_await asio::this_coro::executor;
    auto [order, e_users, e_courses, e_report] =
        co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, fetch_users(d), asio::experimental::deferred),
                                                         asio::co_spawn(ex, fetch_courses(d), asio::experimental::deferred),
                                                         asio::co_spawn(ex, fetch_report(d), asio::experimental::deferred))
            .async_wait(asio::experimental::wait_for_one_error(), use_awaitable);
    // The first failure in completion order is the cause; the others were cancelled because of it.
    std::exception_ptr errs[] = {e_users, e_courses, e_report};
    for (auto i : order) {
      if (errs[i]) std::rethrow_exception(errs[i]);
    }
    // End of stream: an empty batch. (Closing the channel would drop batches still buffered in it.)
    auto [ec] = co_await ch_.async_send(asio::error_code{}, record_batch{}, as_tuple(use_awaitable));
    if (ec) throw sync_error(failure_kind::output, "the c1z writer stopped accepting records");
  }

 private:
  awaitable<void> send(record_batch&& b) {
    if (b.empty()) co_return;
    auto [ec] = co_await ch_.async_send(asio::error_code{}, std::move(b), as_tuple(use_awaitable));
    if (ec) throw sync_error(failure_kind::output, "the c1z writer stopped accepting records");
  }

  awaitable<void> send_resource_types() {
    record_batch b;
    std::string buf;
    for (const auto& rt : {user_resource_type(), course_resource_type()}) {
      if (!opts_.wants_type(rt.id)) continue;
      buf.clear();
      c1z::encode_resource_type(rt, buf);
      b.add_resource_type(rt.id, buf);
      ++s_.resource_types;
    }
    co_await send(std::move(b));
  }

  awaitable<void> fetch_users(bp::deadline d) {
    if (!opts_.wants_type(user_type)) {
      users_done_ = prog_.users_done = true;
      co_await on_listed();
      co_return;
    }
    auto r = co_await api_.async_list_users(
        d, [this](std::vector<percipio::user>&& page) -> awaitable<void> { co_await on_users(std::move(page)); });
    if (!r) throw_failure(r.error());
    users_done_ = true;
    prog_.users_done = true;
    log::info("users listed", {{"users", s_.users}, {"pages", r->pages}, {"duplicates", s_.duplicate_users}});
    co_await on_listed();
  }

  // De-duplicates here; mapping and encoding happen on the writer thread (record_batch::add_user).
  awaitable<void> on_users(std::vector<percipio::user>&& page) {
    record_batch b;
    for (auto& u : page) {
      if (u.id.empty()) continue;
      auto id = percipio::uuid::parse(u.id);
      bool fresh;
      if (id) {
        auto idx = static_cast<std::uint32_t>(users_.size());
        fresh = users_.try_emplace(*id, idx).second;
        if (fresh && id->to_string() != u.id) user_text_[idx] = u.id;  // keep the id exactly as sent
      } else {
        fresh = other_user_ids_.insert(u.id).second;  // cannot match a report row, still a resource
      }
      if (!fresh) {
        ++s_.duplicate_users;
        continue;
      }
      b.add_user(std::move(u));
      ++s_.users;
    }
    prog_.users = s_.users;
    ++prog_.pages;
    co_await send(std::move(b));
  }

  awaitable<void> fetch_courses(bp::deadline d) {
    if (!opts_.wants_type(course_type)) {
      courses_done_ = prog_.courses_done = true;
      co_await on_listed();
      co_return;
    }
    if (opts_.limited_courses.empty()) {
      auto r = co_await api_.async_list_catalog(
          d, [this](std::vector<percipio::content_item>&& page) -> awaitable<void> {
            s_.catalog_items += page.size();
            ++prog_.pages;
            co_await on_courses(page);
          });
      if (!r) throw_failure(r.error());
    } else {
      auto r = co_await api_.async_lookup_courses(opts_.limited_courses, d);
      if (!r) throw_failure(r.error());
      for (const auto& id : r->not_found) {
        log::warn("limited course not found in Percipio", {{"course_id", id}});
        s_.limited_not_found.push_back(id);
      }
      s_.catalog_items += r->items.size();
      co_await on_courses(r->items);
    }
    courses_done_ = true;
    prog_.courses_done = true;
    log::info("courses listed", {{"courses", s_.courses}, {"catalog_items", s_.catalog_items}});
    co_await on_listed();
  }

  awaitable<void> on_courses(const std::vector<percipio::content_item>& items) {
    record_batch b;
    std::string buf;
    for (const auto& item : items) {
      if (!is_syncable_course(item)) {
        ++s_.catalog_skipped;
        continue;
      }
      auto id = percipio::uuid::parse(item.id);
      // A parsed id is registered here; its grant encoders follow below, at that index.
      const bool fresh = id ? courses_.try_emplace(*id, static_cast<std::uint32_t>(course_entries_.size())).second
                            : other_course_ids_.insert(item.id).second;
      if (!fresh) {
        ++s_.duplicate_courses;
        continue;
      }
      const auto course = map_course(item);
      buf.clear();
      c1z::encode_resource(course, buf);
      b.add_resource(course_type, course.id, buf);
      for (auto slug : {slug_completed, slug_in_progress}) {
        if (!opts_.wants_entitlements()) break;
        buf.clear();
        c1z::encode_entitlement(course, course_entitlement(course, slug), buf);
        b.add_entitlement(course_type, course.id, c1z::make_entitlement_id(course_type, course.id, slug), buf);
        ++s_.entitlements;
      }
      ++s_.courses;
      if (id) {
        course_entries_.push_back(
            course_entry{c1z::grant_encoder(course, slug_in_progress), c1z::grant_encoder(course, slug_completed)});
      }
    }
    prog_.courses = s_.courses;
    co_await send(std::move(b));
  }

  void notify_ready() {
    if (users_done_ && courses_done_) ready_.cancel();
  }

  // Once users and courses are both listed, no resource or entitlement follows: the writer indexes
  // them while the report still streams, instead of in finish().
  awaitable<void> on_listed() {
    notify_ready();
    if (!(users_done_ && courses_done_) || objects_marked_) co_return;
    objects_marked_ = true;
    record_batch b;
    b.mark_objects_complete();
    co_await send(std::move(b));
  }

  // Until users and courses are known (report rows cannot be mapped before). Throws when cancelled.
  awaitable<void> wait_ready() {
    while (!(users_done_ && courses_done_)) {
      co_await ready_.async_wait(as_tuple(use_awaitable));
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) {
        throw sync_error(failure_kind::cancelled, "sync cancelled");
      }
    }
  }

  awaitable<void> fetch_report(bp::deadline d) {
    if (!opts_.wants_grants()) {
      prog_.report_done = true;
      co_return;  // grants not wanted: the report is not requested at all
    }
    auto r = co_await api_.async_report(
        d, [this](std::span<const percipio::report_row> rows) -> awaitable<void> { co_await on_rows(rows); });
    if (!r) throw_failure(r.error());
    co_await wait_ready();
    map_early_rows();
    co_await send_grants();
    s_.rows_early_spilled = early_.spilled();
    for (std::size_t i = 0; i < unmapped_by_status_.size(); ++i) {
      if (unmapped_by_status_[i] != 0)
        s_.rows_unmapped_status[std::string(percipio::to_string(static_cast<percipio::activity_status>(i)))] +=
            unmapped_by_status_[i];
    }
    s_.rows_merged = mapped_rows_ - std::min(mapped_rows_, s_.grants());
    s_.report_rows = r->rows;
    s_.report_rows_unusable = r->skipped_rows;
    s_.report_jobs = r->jobs;
    s_.report_downloads = r->downloads;
    prog_.report_done = true;
    log::info("report processed", {{"rows", r->rows}, {"grants", s_.grants()}, {"jobs", r->jobs}});
  }

  // Rows before users and courses are listed wait in early_ (the download goes on meanwhile).
  awaitable<void> on_rows(std::span<const percipio::report_row> rows) {
    prog_.report_streaming = true;
    if (!(users_done_ && courses_done_)) {
      early_.add(rows);
      co_return;
    }
    map_early_rows();
    map_rows(rows);
  }

  void map_early_rows() {
    std::vector<percipio::report_row> chunk;
    while (early_.next(chunk)) map_rows(chunk);
  }

  // Records each pair's grant in pairs_; the grants are written once the report has ended
  // (send_grants). Idempotent per (user, course): a re-delivered report changes nothing.
  void map_rows(std::span<const percipio::report_row> rows) {
    for (const auto& row : rows) {
      const std::uint32_t u = users_.find(row.user);
      if (u == detail::uuid_index::npos) {
        ++s_.rows_unknown_user;
        continue;
      }
      const std::uint32_t c = courses_.find(row.content);
      if (c == detail::uuid_index::npos) {
        ++s_.rows_unknown_course;
        continue;
      }
      const grant_slot slot = map_status(row.status);
      if (slot == grant_slot::none) {
        ++unmapped_by_status_[static_cast<std::uint8_t>(row.status)];  // named once, at the end
        continue;
      }
      ++mapped_rows_;
      auto& state = pairs_.at(u, c);
      if (state >= static_cast<std::uint8_t>(slot)) continue;
      if (state == static_cast<std::uint8_t>(grant_slot::in_progress)) {
        // A completed row beats an earlier in_progress one: the pair keeps only the completed grant.
        --s_.grants_in_progress;
        ++s_.grants_upgraded;
      }
      state = static_cast<std::uint8_t>(slot);
      if (slot == grant_slot::completed) {
        ++s_.grants_completed;
      } else {
        ++s_.grants_in_progress;
      }
    }
    prog_.grants = s_.grants();
  }

  // One grant per recorded pair, in grant_order (the indexes' key order).
  awaitable<void> send_grants() {
    std::vector<std::string_view> course_ids;
    course_ids.reserve(course_entries_.size());
    for (const auto& e : course_entries_) course_ids.push_back(e.completed.resource_id());
    const detail::grant_order order(pairs_, users_, course_ids);
    pairs_ = detail::pair_table{};  // a re-delivered report cannot come any more
    // The writer is the slower side here, so the queue stays full: small batches keep it small.
    const std::size_t batch_rows = std::min<std::size_t>(opts_.batch_rows, 1024);
    record_batch grants;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const auto g = order[i];
      pid_.clear();
      if (auto t = user_text_.find(g.user); t != user_text_.end()) {
        pid_ = t->second;
      } else {
        g.user_id.append_to(pid_);
      }
      const auto& enc = course_entries_[g.course].encoder(g.slot);
      auto a = enc.append(grants.arena(), user_type, pid_);
      grants.add_grant(enc.resource_type(), enc.resource_id(), enc.entitlement_id(), user_type, pid_,
                       {static_cast<std::uint32_t>(a.id_offset), static_cast<std::uint32_t>(a.id_size)},
                       {static_cast<std::uint32_t>(a.offset), static_cast<std::uint32_t>(a.size)});
      if (grants.size() >= batch_rows || grants.bytes() >= (1u << 20)) {
        co_await send(std::move(grants));
        grants = record_batch{};
      }
    }
    co_await send(std::move(grants));
  }

  // Grants are idempotent per pair, but per-row statistics are not: a re-delivered report (after a
  // failed download) counts them again from zero.
 public:
  void restart_row_statistics() {
    early_.clear();  // delivered again from the start
    s_.rows_unknown_user = 0;
    s_.rows_unknown_course = 0;
    unmapped_by_status_.fill(0);
    mapped_rows_ = 0;
  }

 private:

  const options& opts_;
  percipio::api_client& api_;
  channel_t& ch_;
  summary& s_;
  progress_state& prog_;
  asio::steady_timer ready_;
  bool users_done_ = false;
  bool courses_done_ = false;
  std::uint64_t mapped_rows_ = 0;  // rows of synced pairs with a mapped status
  std::array<std::uint64_t, 256> unmapped_by_status_{};  // rows skipped per status byte
  detail::uuid_index users_;
  std::unordered_map<std::uint32_t, std::string> user_text_;
  std::unordered_set<std::string> other_user_ids_;
  detail::uuid_index courses_;
  std::unordered_set<std::string> other_course_ids_;
  std::vector<course_entry> course_entries_;
  detail::pair_table pairs_;
  detail::early_rows early_;
  bool objects_marked_ = false;  // the writer was told resources and entitlements are complete
  std::string pid_;
};

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
      apply(*w, b, buf, rows_written);
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
