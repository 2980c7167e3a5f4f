#include "event_log.hpp"

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace bp::fake_c1::detail {
namespace {

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

}  // namespace

event_log::event_log(const std::filesystem::path& path) {
  if (path.empty()) return;
  out_.open(path, std::ios::app);
  if (!out_) throw std::runtime_error("cannot open log file " + path.string());
}

void event_log::write(std::string_view method, const std::function<void(json::writer&)>& fields) {
  if (!enabled()) return;
  std::string line;
  json::writer w(line);
  w.begin_object().key("ts").value(utc_now()).key("method").value(method);
  fields(w);
  w.end_object();
  line += '\n';
  std::lock_guard lock(mu_);
  out_ << line;
  out_.flush();  // a test or script may read the log while the fake runs
}

}  // namespace bp::fake_c1::detail
