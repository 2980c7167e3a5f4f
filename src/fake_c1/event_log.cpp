#include "event_log.hpp"

#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "baton_percipio/core/time_format.hpp"

namespace bp::fake_c1::detail {
namespace {

std::string utc_now() { return time_format::rfc3339_millis(std::chrono::system_clock::now()); }

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
