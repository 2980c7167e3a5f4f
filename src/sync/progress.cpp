#include "progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "baton_percipio/core/log.hpp"

namespace bp::sync {
namespace {

const char* report_state(const progress_state& p) {
  if (p.report_done) return "done";
  if (p.report_streaming) return "streaming";
  return p.report_polls ? "generating" : "requested";
}

}  // namespace

progress_reporter::progress_reporter(progress_mode mode, std::chrono::milliseconds log_interval, std::FILE* out)
    : out_(out),
      live_(mode == progress_mode::live_line || (mode == progress_mode::automatic && isatty(fileno(out)))),
      enabled_(mode != progress_mode::off),
      interval_(live_ ? std::chrono::milliseconds(250) : log_interval),
      last_(std::chrono::steady_clock::now()) {}

void progress_reporter::tick(const progress_state& p, std::chrono::steady_clock::time_point now) {
  if (!enabled_) return;
  if (now - last_ < interval_) return;
  last_ = now;
  if (live_) {
    std::string line = fmt::format(
        "\r\033[Kpages {} | users {}{} | courses {}{} | report {} (polls {}) | grants {} | rows written {} | {} requests, "
        "{:.1f} MB",
        p.pages, p.users, p.users_done ? " (done)" : "", p.courses, p.courses_done ? " (done)" : "", report_state(p),
        p.report_polls, p.grants, p.rows_written, p.requests, static_cast<double>(p.bytes) / 1e6);
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
    drew_ = true;
  } else {
    log::info("progress", {{"pages", p.pages},
                           {"users", p.users},
                           {"courses", p.courses},
                           {"report", report_state(p)},
                           {"report_polls", p.report_polls},
                           {"grants", p.grants},
                           {"rows_written", p.rows_written},
                           {"requests", p.requests},
                           {"bytes", p.bytes}});
  }
}

void progress_reporter::finish() {
  if (drew_) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
}

}  // namespace bp::sync
