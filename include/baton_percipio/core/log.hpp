#pragma once
// Structured logging to stderr in the Baton shape: JSON lines (level, ts, caller, msg, fields) or
// tab-separated console lines. Registered secrets are redacted from every line before it is written.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace bp::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };
enum class format { json, console };

struct field {
  using value_type = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
  std::string_view key;
  value_type value;
  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  field(std::string_view k, bool v) : key(k), value(v) {}
  field(std::string_view k, double v) : key(k), value(v) {}
  field(std::string_view k, int v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, long long v) : key(k), value(static_cast<std::int64_t>(v)) {}
  field(std::string_view k, unsigned v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  field(std::string_view k, unsigned long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
  field(std::string_view k, unsigned long long v) : key(k), value(static_cast<std::uint64_t>(v)) {}
};

// Parses "debug|info|warn|error"; anything else is debug, as zap does.
level parse_level(std::string_view s);
// Parses "json|console"; anything else is json.
format parse_format(std::string_view s);

struct sink {
  virtual ~sink() = default;
  virtual void write(std::string_view line) = 0;  // one complete line including '\n'
};

void configure(level min_level, format fmt);
// Replaces the output (default: stderr). Pass nullptr to restore stderr. For tests.
void set_sink(sink* s);
// Every later line carries this sync id (empty clears it).
void set_sync_id(std::string id);
// Every later line carries this ConductorOne task id (empty clears it); service mode sets it while
// a task is handled.
void set_task_id(std::string id);
// Text that must never be written (the API token), registered once however often it is added.
// Occurrences inside a line are replaced by "[REDACTED]" for secrets of at least
// min_substring_secret_bytes; shorter ones only where a whole value is the secret (a message, a
// string field, the text given to redact()). Code that knows a value is secret (an Authorization
// header in a debug request line, a flag value in a config error) masks it whole itself, whatever
// its length.
inline constexpr std::size_t min_substring_secret_bytes = 8;
void add_secret(std::string secret);
// Forgets a secret that can no longer appear (a replaced access token, a used client assertion),
// so a long-running process does not collect one entry per renewal.
void remove_secret(std::string_view secret);
void clear_secrets();
// How many distinct secrets are registered. For tests.
std::size_t secret_count();
// Off: secrets stay registered but nothing is redacted. For tests that prove no secret reaches a
// line or message in the first place.
void set_redaction(bool on);
// Redacts registered secrets from arbitrary text (used for error messages too).
std::string redact(std::string_view text);

bool enabled(level l);
void write(level l, std::string_view msg, std::initializer_list<field> fields = {});

inline void debug(std::string_view m, std::initializer_list<field> f = {}) { write(level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<field> f = {}) { write(level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<field> f = {}) { write(level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<field> f = {}) { write(level::error, m, f); }

}  // namespace bp::log
