#include "daemon.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/log.hpp"

namespace bp::cli {

// ---- stop_signal ----

void stop_signal::request_stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  sync_stop_.request_stop();
  std_stop_.request_stop();
  cv_.notify_all();
}

bool stop_signal::stop_requested() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

bool stop_signal::wait_until(steady::time_point until) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [this] { return stopped_; });
  return !stopped_;
}

// ---- signal_watcher ----

signal_watcher::signal_watcher(stop_signal& stop) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (int e = pthread_sigmask(SIG_BLOCK, &set, &old_mask_); e != 0) {
    throw std::system_error(e, std::generic_category(), "pthread_sigmask");
  }
  signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (signal_fd_ < 0 || wake_fd_ < 0) {
    const int e = errno;
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw std::system_error(e, std::generic_category(), "signalfd/eventfd");
  }
  thread_ = std::thread([this, &stop] {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;  // the destructor asks us to leave
      if (fds[0].revents & POLLIN) {
        signalfd_siginfo info{};
        if (::read(signal_fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
        const int sig = static_cast<int>(info.ssi_signo);
        const bool again = last_signal_.exchange(sig) != 0;
        log::warn(again ? "signal received again, still stopping" : "signal received, stopping",
                  {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
        stop.request_stop();
      }
    }
  });
}

signal_watcher::~signal_watcher() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(signal_fd_);
  ::close(wake_fd_);
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

int signal_watcher::last_signal() const { return last_signal_.load(); }

// ---- background_metrics ----

std::unique_ptr<background_metrics> background_metrics::start(std::string_view host, std::uint16_t port,
                                                              const metrics::registry& reg,
                                                              std::error_code& ec) {
  std::unique_ptr<background_metrics> m(new background_metrics());
  m->server_ = metrics::start_metrics_server(m->ctx_.get_executor(), host, port, reg, ec);
  if (!m->server_) return nullptr;
  // The listening server keeps the context busy until stop(); no work guard needed.
  m->thread_ = std::thread([p = m.get()] { p->ctx_.run(); });
  return m;
}

background_metrics::~background_metrics() {
  // Stopping closes the acceptor and every connection; the accept loop and the sessions then end
  // by themselves and run() returns once the context has drained: nothing is left suspended.
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

// ---- one sync ----

namespace {

const char* kind_name(sync::failure_kind k) {
  switch (k) {
    case sync::failure_kind::configuration: return "configuration";
    case sync::failure_kind::auth: return "auth";
    case sync::failure_kind::upstream: return "upstream";
    case sync::failure_kind::output: return "output";
    case sync::failure_kind::cancelled: return "cancelled";
    case sync::failure_kind::internal: return "internal";
  }
  return "internal";
}

void add_traffic(metrics::registry& reg, const sync::summary& s) {
  // The registry counts one event at a time (the HTTP layer's view); a sync adds its totals.
  for (std::uint64_t i = 0; i < s.requests; ++i) reg.add_request();
  for (std::uint64_t i = 0; i < s.retries; ++i) reg.add_retry();
  for (std::uint64_t i = 0; i < s.rate_limited; ++i) reg.add_rate_limited();
  reg.add_bytes_downloaded(s.bytes_downloaded);
}

}  // namespace

void note_existing_output(metrics::registry& reg, const std::filesystem::path& destination) {
  std::error_code ec;
  const bool present = std::filesystem::is_regular_file(destination, ec) &&
                       std::filesystem::file_size(destination, ec) > 0 && !ec;
  reg.set_good_file_present(present);
}

sync_outcome run_one_sync(const sync::options& opts, stop_signal& stop, metrics::registry* reg,
                          const runner_hooks& hooks) {
  sync::run_control ctl;
  ctl.stop = &stop.sync_source();
  ctl.handle_signals = false;  // signal_watcher turns signals into stop requests
  sync_outcome out;
  if (reg) reg->sync_started();
  try {
    out.summary = hooks.run_sync ? hooks.run_sync(opts, ctl, &out.summary) : sync::run_sync(opts, ctl, &out.summary);
    out.ok = true;
  } catch (const sync::sync_error& e) {
    out.ok = false;
    out.kind = e.kind();
    out.error = log::redact(e.what());
    log::error("sync failed", {{"error", out.error}, {"kind", kind_name(e.kind())}});
  }
  if (reg) {
    const std::chrono::duration<double> took(out.summary.wall_seconds);
    add_traffic(*reg, out.summary);
    if (out.ok) {
      reg->sync_succeeded(took, {.users = out.summary.users,
                                 .courses = out.summary.courses,
                                 .entitlements = out.summary.entitlements,
                                 .grants = out.summary.grants()});
    } else {
      reg->sync_failed(took);
    }
  }
  if (hooks.on_sync_done) hooks.on_sync_done(out);
  log::set_sync_id("");  // lines between syncs belong to no sync
  return out;
}

// ---- the loop ----

std::chrono::seconds retry_delay(const daemon_settings& s, unsigned failures) {
  auto d = std::max(s.first_retry, std::chrono::seconds(1));
  for (unsigned i = 1; i < failures && d < s.interval; ++i) d *= 2;
  return std::min(d, s.interval);
}

daemon_result run_daemon(const sync::options& opts, const daemon_settings& settings, stop_signal& stop,
                         metrics::registry* reg, const runner_hooks& hooks) {
  auto now = [&] { return hooks.now ? hooks.now() : steady::now(); };
  auto sleep_until = [&](steady::time_point t) {
    return hooks.sleep_until ? hooks.sleep_until(t, stop) : stop.wait_until(t);
  };
  daemon_result r;
  log::set_sync_id("");
  if (reg) note_existing_output(*reg, opts.destination);
  log::info("daemon started", {{"interval_seconds", static_cast<std::int64_t>(settings.interval.count())},
                               {"file", opts.destination.string()}});
  unsigned failures = 0;
  while (!stop.stop_requested()) {
    const auto started = now();
    auto out = run_one_sync(opts, stop, reg, hooks);
    if (stop.stop_requested()) {
      if (out.ok) ++r.syncs_succeeded; else ++r.syncs_failed;
      break;
    }
    steady::time_point next;
    if (out.ok) {
      ++r.syncs_succeeded;
      failures = 0;
      next = std::max(started + settings.interval, now());
    } else {
      ++r.syncs_failed;
      if (out.kind == sync::failure_kind::configuration) {
        log::error("configuration error, daemon exits", {{"error", out.error}});
        r.exit_code = exit_config;
        return r;
      }
      ++failures;
      next = now() + retry_delay(settings, failures);
      log::warn("keeping the last good file; will retry", {{"consecutive_failures", failures}});
    }
    const auto wait = std::chrono::ceil<std::chrono::seconds>(std::max(next - now(), steady::duration::zero()));
    log::info("next sync scheduled", {{"in_seconds", static_cast<std::int64_t>(wait.count())}});
    if (!sleep_until(next)) break;
  }
  log::info("daemon stopped", {{"syncs_succeeded", r.syncs_succeeded}, {"syncs_failed", r.syncs_failed}});
  r.exit_code = exit_ok;
  return r;
}

}  // namespace bp::cli
