#include "baton_percipio/core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <vector>

#include "baton_percipio/core/json_writer.hpp"

namespace bp::log {
namespace {

struct state {
  std::mutex mu;
  level min_level = level::info;
  format fmt = format::json;
  sink* out = nullptr;
  std::string sync_id;
  std::vector<std::string> secrets;
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

std::string redact_locked(const state& s, std::string_view text) {
  std::string out(text);
  if (!s.redaction) return out;
  for (const auto& secret : s.secrets) {
    if (secret.empty()) continue;
    for (std::size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), "[REDACTED]");
      pos += 10;
    }
  }
  return out;
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

void add_secret(std::string secret) {
  if (secret.empty()) return;
  auto& s = st();
  std::lock_guard lk(s.mu);
  s.secrets.push_back(std::move(secret));
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
    w.key("msg").value(msg);
    if (!s.sync_id.empty()) w.key("sync_id").value(std::string_view(s.sync_id));
    for (const auto& f : fields) {
      w.key(f.key);
      append_field_value(w, f.value);
    }
    w.end_object();
  } else {
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char ts[40];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    line += ts;
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
    line += frac;
    line += '\t';
    line += level_name(l, true);
    line += "\tbaton-percipio\t";
    line += msg;
    if (fields.size() != 0 || !s.sync_id.empty()) {
      line += '\t';
      json::writer w(line);
      w.begin_object();
      if (!s.sync_id.empty()) w.key("sync_id").value(std::string_view(s.sync_id));
      for (const auto& f : fields) {
        w.key(f.key);
        append_field_value(w, f.value);
      }
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
