#include "baton_percipio/percipio/model.hpp"

#include <array>
#include <mutex>
#include <string>

#include "baton_percipio/core/ascii.hpp"

namespace bp::percipio {
namespace {

// ascii::hex_value by table: two ids per report row, branch-free.
constexpr std::array<std::int8_t, 256> hex_table = [] {
  std::array<std::int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(ascii::hex_value(static_cast<char>(c)));
  return t;
}();

// Offsets of the 16 digit pairs in the 8-4-4-4-12 text form.
constexpr std::array<std::uint8_t, 16> uuid_pairs = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

using ascii::iequals;

// Texts of unlisted status values, guarded by unlisted_mu; an entry never changes once written.
constexpr std::size_t first_unlisted = static_cast<std::size_t>(activity_status::first_unlisted);
constexpr std::size_t max_unlisted = 256 - first_unlisted;
constexpr std::size_t max_unlisted_bytes = 128;  // longer values are counted under their prefix
std::mutex unlisted_mu;
std::array<std::string, max_unlisted> unlisted;
std::size_t unlisted_count = 0;

activity_status intern_unlisted(std::string_view s) noexcept {
  s = s.substr(0, max_unlisted_bytes);
  try {
    std::lock_guard lock(unlisted_mu);
    for (std::size_t i = 0; i < unlisted_count; ++i) {
      if (unlisted[i] == s) return static_cast<activity_status>(first_unlisted + i);
    }
    if (unlisted_count == max_unlisted) return activity_status::other;
    unlisted[unlisted_count] = std::string(s);
    return static_cast<activity_status>(first_unlisted + unlisted_count++);
  } catch (...) {
    return activity_status::other;
  }
}

std::string_view unlisted_text(activity_status s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  if (i < first_unlisted) return "other";
  std::lock_guard lock(unlisted_mu);
  return i - first_unlisted < unlisted_count ? std::string_view(unlisted[i - first_unlisted]) : "other";
}

}  // namespace

std::optional<uuid> uuid::parse(std::string_view t) noexcept {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return std::nullopt;
  uuid u;
  int bad = 0;
  for (std::size_t k = 0; k < 16; ++k) {
    const int hi = hex_table[static_cast<unsigned char>(t[uuid_pairs[k]])];
    const int lo = hex_table[static_cast<unsigned char>(t[uuid_pairs[k] + 1u])];
    bad |= hi | lo;
    u.bytes[k] = static_cast<std::uint8_t>(static_cast<unsigned>(hi) << 4 | static_cast<unsigned>(lo));
  }
  if (bad < 0) return std::nullopt;
  return u;
}

void uuid::append_to(std::string& out) const {
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 15]);
  }
}

std::string uuid::to_string() const {
  std::string s;
  s.reserve(36);
  append_to(s);
  return s;
}

activity_status parse_activity_status(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty()) return activity_status::empty;
  if (iequals(s, "started")) return activity_status::started;
  if (iequals(s, "completed")) return activity_status::completed;
  if (iequals(s, "active")) return activity_status::active;
  if (iequals(s, "achieved")) return activity_status::achieved;
  if (iequals(s, "listened")) return activity_status::listened;
  if (iequals(s, "read")) return activity_status::read;
  if (iequals(s, "watched")) return activity_status::watched;
  if (iequals(s, "abandoned")) return activity_status::abandoned;
  return intern_unlisted(s);
}

std::string_view to_string(activity_status s) noexcept {
  switch (s) {
    case activity_status::empty: return "";
    case activity_status::started: return "Started";
    case activity_status::active: return "Active";
    case activity_status::completed: return "Completed";
    case activity_status::achieved: return "Achieved";
    case activity_status::listened: return "Listened";
    case activity_status::read: return "Read";
    case activity_status::watched: return "Watched";
    case activity_status::abandoned: return "Abandoned";
    case activity_status::other: return "other";
    default: return unlisted_text(s);
  }
}

}  // namespace bp::percipio
