// The sync pipeline's fetch side: coroutines on one io_context feed encoded rows through a bounded
// channel to the writer thread. Users, catalog and the report start together; report rows that
// arrive before the courses are known wait in early_rows (memory, then a temporary file), the rest
// are folded into the report ledger as they stream in. The grants are written once the report has
// ended: right away, even when the users list is still coming (on paced syncs of large tenants it
// is the last request), and corrected for the users the list then did not deliver.
#include <asio/co_spawn.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "baton_percipio/c1z/writer.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/sync/mapping.hpp"
#include "baton_percipio/sync/run.hpp"
#include "early_rows.hpp"
#include "grant_order.hpp"
#include "pipeline.hpp"
#include "report_ledger.hpp"
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

struct course_entry {
  c1z::grant_encoder in_progress;
  c1z::grant_encoder completed;
  const c1z::grant_encoder& encoder(grant_slot s) const { return s == grant_slot::completed ? completed : in_progress; }
};

}  // namespace

namespace detail {

// State shared by the fetch coroutines. All of it lives on the io thread.
class pipeline::impl {
 public:
  impl(const options& opts, percipio::api_client& api, channel_t& ch, summary& s, progress_state& prog)
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
      ledger_.end_users();
      co_await on_listed();
      co_return;
    }
    auto r = co_await api_.async_list_users(
        d, [this](std::vector<percipio::user>&& page) -> awaitable<void> { co_await on_users(std::move(page)); });
    if (!r) throw_failure(r.error());
    users_done_ = true;
    ledger_.end_users();
    prog_.users_done = true;
    log::info("users listed", {{"users", s_.users}, {"pages", r->pages}, {"duplicates", s_.duplicate_users}});
    co_await on_listed();
  }

  // De-duplicates here; mapping and encoding happen on the writer thread (record_batch::add_user).
  awaitable<void> on_users(std::vector<percipio::user>&& page) {
    if (opts_.users_after_report && opts_.wants_grants() && s_.users > 0) co_await wait_until(report_folded_);
    record_batch b;
    for (auto& u : page) {
      if (u.id.empty()) continue;
      auto id = percipio::uuid::parse(u.id);
      bool fresh;
      if (id) {
        fresh = ledger_.list_user(*id, u.id);
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

  void notify_ready() { ready_.cancel(); }  // wakes every wait_until(): each checks its own condition

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

  // Until `done` (users_done_, courses_done_ or report_folded_) is set. Throws when cancelled.
  awaitable<void> wait_until(const bool& done) {
    while (!done) {
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
    co_await wait_until(courses_done_);
    map_early_rows();
    report_folded_ = true;
    notify_ready();
    co_await write_grants();
    s_.rows_early_spilled = early_.spilled();
    s_.report_rows = r->rows;
    s_.report_rows_unusable = r->skipped_rows;
    s_.report_jobs = r->jobs;
    s_.report_downloads = r->downloads;
    prog_.report_done = true;
    log::info("report processed", {{"rows", r->rows}, {"grants", s_.grants()}, {"jobs", r->jobs}});
  }

  // Rows before the courses are listed wait in early_ (the download goes on meanwhile).
  awaitable<void> on_rows(std::span<const percipio::report_row> rows) {
    prog_.report_streaming = true;
    if (!courses_done_) {
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

  void map_rows(std::span<const percipio::report_row> rows) {
    ledger_.map_rows(rows, courses_);
    prog_.grants = ledger_.grants_seen();
  }

  std::vector<std::string_view> course_ids() const {
    std::vector<std::string_view> ids;
    ids.reserve(course_entries_.size());
    for (const auto& e : course_entries_) ids.push_back(e.completed.resource_id());
    return ids;
  }

  // The report has ended and the courses are known.
  awaitable<void> write_grants() {
    const auto ids = course_ids();
    if (users_done_) {
      const grant_order order(ledger_.pairs(), ledger_.users(), ids, ledger_.listed());
      count_rows_and_grants();
      ledger_.release_pairs();  // a re-delivered report cannot come any more
      co_await send_grants(order);
      co_return;
    }
    // The users list is still coming. Every pair's grant is written now and indexed while it comes;
    // then the grants of users it did not deliver are removed (and those of users it delivered in
    // another id form are written again with that form).
    std::vector<std::uint8_t> listed_when_written = ledger_.listed();
    {
      const grant_order order(ledger_.pairs(), ledger_.users(), ids);
      co_await send_grants(order, &listed_when_written);
    }
    record_batch done;
    done.mark_grants_complete();
    co_await send(std::move(done));
    co_await wait_until(users_done_);
    co_await correct_early_grants(listed_when_written, ids);
    count_rows_and_grants();
    ledger_.release_pairs();
  }

  // The users list has ended; grants were written while it was coming, with listed_when_written.
  awaitable<void> correct_early_grants(const std::vector<std::uint8_t>& listed_when_written,
                                       const std::vector<std::string_view>& course_ids) {
    const auto& listed = ledger_.listed();
    std::vector<std::uint8_t> rewrite;  // users delivered later, in another id form: their grants again
    std::vector<percipio::uuid> ids(listed_when_written.size());
    ledger_.users().for_each([&](const percipio::uuid& id, std::uint32_t u) {
      if (u < ids.size()) ids[u] = id;
    });
    record_batch b;
    std::uint64_t unknown = 0;
    for (std::uint32_t u = 0; u < listed_when_written.size(); ++u) {
      if (listed_when_written[u] != 0) continue;  // written with its final id text
      const bool late_text = listed[u] != 0 && ledger_.has_own_text(u);
      if (listed[u] != 0 && !late_text) continue;
      principal_id_.clear();
      ids[u].append_to(principal_id_);  // the form the grants were written with
      b.add_remove_principal_grants(user_type, principal_id_);
      unknown += listed[u] == 0;
      if (late_text) {
        if (rewrite.empty()) rewrite.resize(listed.size(), 0);
        rewrite[u] = 1;
      }
    }
    co_await send(std::move(b));
    if (!rewrite.empty()) {
      const grant_order order(ledger_.pairs(), ledger_.users(), course_ids, rewrite);
      co_await send_grants(order);
    }
    const auto rewritten = static_cast<std::uint64_t>(std::count(rewrite.begin(), rewrite.end(), 1));
    s_.grants_before_users = true;
    s_.grants_corrected_users = unknown + rewritten;
    log::info("grants written before the users list ended, corrected",
              {{"users_not_listed", unknown}, {"users_rewritten", rewritten}});
  }

  // Final statistics: the users list and the report have both ended, the pairs are still there.
  void count_rows_and_grants() {
    const row_counts rows = ledger_.rows();
    const grant_counts grants = ledger_.grants();
    s_.rows_unknown_user = rows.unknown_user;
    s_.rows_unknown_course = rows.unknown_course;
    for (std::size_t i = 0; i < rows.unmapped_by_status.size(); ++i) {
      if (rows.unmapped_by_status[i] != 0)
        s_.rows_unmapped_status[std::string(percipio::to_string(static_cast<percipio::activity_status>(i)))] +=
            rows.unmapped_by_status[i];
    }
    s_.grants_completed = grants.completed;
    s_.grants_in_progress = grants.in_progress;
    s_.grants_upgraded = grants.upgraded;
    s_.rows_merged = rows.mapped - std::min(rows.mapped, s_.grants());
    prog_.grants = s_.grants();
  }

  // One grant per pair in order (the indexes' key order). With canonical_unless: users not marked
  // there are named in the canonical form even if the users list delivers another form meanwhile
  // (the sends let users pages in), so correct_early_grants finds all their grants in one form.
  awaitable<void> send_grants(const grant_order& order, const std::vector<std::uint8_t>* canonical_unless = nullptr) {
    // The writer is the slower side here, so the queue stays full: small batches keep it small.
    const std::size_t batch_rows = std::min<std::size_t>(opts_.batch_rows, 1024);
    record_batch grants;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const auto g = order[i];
      principal_id_.clear();
      if (canonical_unless != nullptr && (*canonical_unless)[g.user] == 0) {
        g.user_id.append_to(principal_id_);
      } else {
        ledger_.append_principal(g.user, g.user_id, principal_id_);
      }
      const auto& enc = course_entries_[g.course].encoder(g.slot);
      auto a = enc.append(grants.arena(), user_type, principal_id_);
      grants.add_grant(enc.resource_type(), enc.resource_id(), enc.entitlement_id(), user_type, principal_id_,
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
    ledger_.restart_rows();
  }

 private:

  const options& opts_;
  percipio::api_client& api_;
  channel_t& ch_;
  summary& s_;
  progress_state& prog_;
  asio::steady_timer ready_;
  bool users_done_ = false;
  bool report_folded_ = false;  // every report row is in the ledger
  bool courses_done_ = false;
  detail::report_ledger ledger_;  // users by uuid, and what the report says about each pair
  std::unordered_set<std::string> other_user_ids_;
  detail::uuid_index courses_;
  std::unordered_set<std::string> other_course_ids_;
  std::vector<course_entry> course_entries_;
  detail::early_rows early_;
  bool objects_marked_ = false;  // the writer was told resources and entitlements are complete
  std::string principal_id_;  // the grant principal's user id, reused across grants
};

pipeline::pipeline(const options& opts, percipio::api_client& api, batch_channel& ch, summary& s,
                   progress_state& prog)
    : impl_(std::make_unique<impl>(opts, api, ch, s, prog)) {}
pipeline::~pipeline() = default;
awaitable<void> pipeline::run(bp::deadline d) { return impl_->run(d); }
void pipeline::restart_row_statistics() { impl_->restart_row_statistics(); }

}  // namespace detail
}  // namespace bp::sync
