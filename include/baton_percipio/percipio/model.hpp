#pragma once
// Compact structs for the Percipio objects the connector uses. Only the needed fields are kept;
// null and missing string fields become empty strings unless the distinction matters.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bp::percipio {

// A UUID as 16 bytes: report rows carry two of them, and millions of rows must stay small.
struct uuid {
  std::array<std::uint8_t, 16> bytes{};

  // Accepts the canonical 8-4-4-4-12 form in either case; anything else is nullopt.
  static std::optional<uuid> parse(std::string_view text) noexcept;
  // Lower-case canonical form, as Percipio sends ids.
  std::string to_string() const;
  void append_to(std::string& out) const;
  friend bool operator==(const uuid&, const uuid&) = default;
  friend auto operator<=>(const uuid&, const uuid&) = default;
};

struct uuid_hash {
  std::size_t operator()(const uuid& u) const noexcept {
    std::uint64_t a, b;
    std::memcpy(&a, u.bytes.data(), 8);
    std::memcpy(&b, u.bytes.data() + 8, 8);
    return static_cast<std::size_t>(a ^ (b * 0x9e3779b97f4a7c15ULL));
  }
};

struct custom_attribute {
  std::string name;
  std::optional<std::string> value;  // null when the attribute is unset for this user
};

struct user {
  std::string id;
  std::string external_user_id;
  std::string email;
  std::string login_name;
  std::string first_name;
  std::string last_name;
  bool is_active = false;
  std::string role;
  std::string job_title;
  bool is_instructor = false;
  bool has_coaching = false;
  bool has_enterprise_coaching = false;
  std::optional<bool> has_enterprise_coaching_dashboard;  // absent in observed data
  std::string approval_manager_email;                     // approvalManager.email; {} and null give ""
  std::vector<custom_attribute> custom_attributes;
};

struct localized_title {
  std::string locale;
  std::string title;
};

// A catalog or search-content item. `titles` keeps every locale so the sync applies its name rule.
struct content_item {
  std::string id;
  std::string code;              // often null upstream
  std::string percipio_type;     // contentType.percipioType (COURSE, ASSESSMENT, ...)
  std::string lifecycle_status;  // lifecycle.status (ACTIVE, INACTIVE); empty when absent (search)
  std::vector<localized_title> titles;
};

// Row status values of the learning-activity report, matched case-insensitively.
enum class activity_status : std::uint8_t {
  empty,  // missing, null or ""
  started,
  active,
  completed,
  achieved,
  listened,
  read,
  watched,
  abandoned,
  other,  // a value not listed above, once the table of unlisted values is full
  // Values from here up stand for unlisted texts, interned process-wide (first come, at most 240),
  // so summaries can count skipped rows per value as sent while a row stays one byte.
  first_unlisted = 16,
};

// Trims surrounding blanks; listed values match ignoring case, others are interned as sent.
activity_status parse_activity_status(std::string_view s) noexcept;
// The canonical spelling of a listed value, the text of an unlisted one, "other" for the overflow.
std::string_view to_string(activity_status s) noexcept;

// One report row reduced to the join keys and the status: 33 bytes.
struct report_row {
  uuid user;
  uuid content;
  activity_status status = activity_status::empty;
};

// One parsed list page: the kept items, and how many array elements the page had (drives the
// "short page" end-of-list rule, so skipped elements still count).
template <class T>
struct page {
  std::vector<T> items;
  std::size_t elements = 0;
};

}  // namespace bp::percipio
