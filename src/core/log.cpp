#include "baton_percipio/core/log.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <vector>

#include "baton_percipio/core/json_writer.hpp"
#include "baton_percipio/core/time_format.hpp"

namespace bp::log {
namespace {

struct state {
  std::mutex mu;
  level min_level = level::info;
  format fmt = format::json;
  sink* out = nullptr;
  std::string sync_id;
  std::string task_id;
  std::vector<std::string> secrets;  // each once, longest first
  bool redaction = true;
};

state& st() {
  static state s;
  return s;
}

std::atomic<int> g_min_level{static_cast<int>(level::info)};

const char* level_name(level l, bool upper) {
  switch (l) {
    case level::debug: return upper ? "DEBUG" : "debug";
    case level::info: return upper ? "INFO" : "info";
    case level::warn: return upper ? "WARN" : "warn";
    case level::error: return upper ? "ERROR" : "error";
  }
  return "info";
}

void append_field_value(json::writer& w, const field::value_type& v) {
  std::visit([&](auto&& x) { w.value(x); }, v);
}

constexpr std::string_view mask = "[REDACTED]";

bool is_secret(const state& s, std::string_view v) {
  return s.redaction && std::find(s.secrets.begin(), s.secrets.end(), v) != s.secrets.end();
}

// Secrets shorter than min_substring_secret_bytes are replaced only as a whole value: searched for
// inside text, a one-letter token would turn every line into [REDACTED] soup.
std::string redact_locked(const state& s, std::string_view text) {
  if (is_secret(s, text)) return std::string(mask);
  std::string out(text);
  if (!s.redaction) return out;
  for (const auto& secret : s.secrets) {  // longest first: one containing another is replaced whole
    if (secret.size() < min_substring_secret_bytes) continue;
    for (std::size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), mask);
      pos += mask.size();
    }
  }
  return out;
}

// A field whose whole value is a secret is masked whatever the secret's length.
void append_field(json::writer& w, const state& s, const field& f) {
  w.key(f.key);
  if (const auto* v = std::get_if<std::string_view>(&f.value); v && is_secret(s, *v)) {
    w.value(mask);
  } else {
    append_field_value(w, f.value);
  }
}

}  // namespace

level parse_level(std::string_view s) {
  if (s == "info") return level::info;
  if (s == "warn" || s == "warning") return level::warn;
  if (s == "error") return level::error;
  return level::debug;
}

format parse_format(std::string_view s) { return s == "console" ? format::console : format::json; }

void configure(level min_level, format fmt) {
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.min_level = min_level;
  s.fmt = fmt;
  g_min_level.store(static_cast<int>(min_level), std::memory_order_relaxed);
}

void set_sink(sink* out) {
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.out = out;
}

void set_sync_id(std::string id) {
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.sync_id = std::move(id);
}

void set_task_id(std::string id) {
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.task_id = std::move(id);
}

void add_secret(std::string secret) {
  if (secret.empty()) return;
  auto& s = st();
  std::lock_guard lk(s.mu);
  // Registered again by every api_client a daemon builds: once is enough.
  if (std::find(s.secrets.begin(), s.secrets.end(), secret) != s.secrets.end()) return;
  const auto at = std::find_if(s.secrets.begin(), s.secrets.end(),
                               [&](const std::string& x) { return x.size() < secret.size(); });
  s.secrets.insert(at, std::move(secret));
}

void remove_secret(std::string_view secret) {
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.secrets.erase(std::remove(s.secrets.begin(), s.secrets.end(), secret), s.secrets.end());
}

std::size_t secret_count() {
  auto& s = st();
  std::lock_guard lk(s.mu);
  return s.secrets.size();
}

void clear_secrets() {
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.secrets.clear();
}

void set_redaction(bool on) {
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.redaction = on;
}

std::string redact(std::string_view text) {
  auto& s = st();
  std::lock_guard lk(s.mu);
  return redact_locked(s, text);
}

bool enabled(level l) { return static_cast<int>(l) >= g_min_level.load(std::memory_order_relaxed); }

void write(level l, std::string_view msg, std::initializer_list<field> fields) {
  if (!enabled(l)) return;
  auto& s = st();
  auto now = std::chrono::system_clock::now();
  std::string line;
  line.reserve(128 + msg.size());
  std::lock_guard lk(s.mu);
  if (s.fmt == format::json) {
    json::writer w(line);
    w.begin_object();
    w.key("level").value(level_name(l, false));
    w.key("ts").value(std::chrono::duration<double>(now.time_since_epoch()).count());
    w.key("caller").value("baton-percipio");
    w.key("msg").value(is_secret(s, msg) ? mask : msg);
    if (!s.task_id.empty()) w.key("task_id").value(std::string_view(s.task_id));
    if (!s.sync_id.empty()) w.key("sync_id").value(std::string_view(s.sync_id));
    for (const auto& f : fields) append_field(w, s, f);
    w.end_object();
  } else {
    line += time_format::rfc3339_millis(now);
    line += '\t';
    line += level_name(l, true);
    line += "\tbaton-percipio\t";
    line += is_secret(s, msg) ? mask : msg;
    if (fields.size() != 0 || !s.sync_id.empty() || !s.task_id.empty()) {
      line += '\t';
      json::writer w(line);
      w.begin_object();
      if (!s.task_id.empty()) w.key("task_id").value(std::string_view(s.task_id));
      if (!s.sync_id.empty()) w.key("sync_id").value(std::string_view(s.sync_id));
      for (const auto& f : fields) append_field(w, s, f);
      w.end_object();
    }
  }
  line.push_back('\n');
  if (!s.secrets.empty()) line = redact_locked(s, line);
  if (s.out) {
    s.out->write(line);
  } else {
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

}  // namespace bp::log
