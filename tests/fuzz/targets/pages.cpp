// The page parsers (users, catalog, search) and the report status/poll parsers on arbitrary bodies:
// a failure is a value with a one-line message, a success never keeps more items than elements.
#include <string>

#include "baton_percipio/percipio/parse.hpp"
#include "fuzz/targets.hpp"

namespace bp::fuzz {
namespace {

std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

template <class T>
void check_page(const percipio::result<percipio::page<T>>& r) {
  if (!r) {
    BP_FUZZ_CHECK(r.error().code);
    BP_FUZZ_CHECK(r.error().message.find('\n') == std::string::npos);
    return;
  }
  BP_FUZZ_CHECK(r->items.size() <= r->elements);
}

std::size_t touch(const std::string& s) { return s.size(); }

}  // namespace

int users_page(const std::uint8_t* data, std::size_t size) {
  auto r = percipio::parse_users_page(as_text(data, size), "users page offset=0");
  check_page(r);
  if (r) {
    std::size_t n = 0;
    for (const auto& u : r->items) {
      n += touch(u.id) + touch(u.email) + touch(u.first_name) + touch(u.last_name) + touch(u.login_name);
      for (const auto& a : u.custom_attributes) n += touch(a.name) + (a.value ? a.value->size() : 0);
    }
    (void)n;
  }
  return 0;
}

int catalog_page(const std::uint8_t* data, std::size_t size) {
  auto r = percipio::parse_catalog_page(as_text(data, size), "catalog page offset=0");
  check_page(r);
  if (r) {
    for (const auto& item : r->items) {
      for (const auto& t : item.titles) (void)touch(t.title);
    }
  }
  return 0;
}

int search_results(const std::uint8_t* data, std::size_t size) {
  check_page(percipio::parse_search_results(as_text(data, size), "search q=x"));
  return 0;
}

int report_status(const std::uint8_t* data, std::size_t size) {
  const auto text = as_text(data, size);
  auto r = percipio::parse_report_status(text, "report poll");
  if (!r) BP_FUZZ_CHECK(r.error().message.find('\n') == std::string::npos);
  (void)percipio::classify_report_body(text);
  for (std::size_t max_len : {std::size_t{0}, std::size_t{1}, std::size_t{40}, std::size_t{300}}) {
    const auto s = percipio::summarize_error_body(text, max_len);
    // Shortened to max_len bytes (an ellipsis may be added, nothing more).
    BP_FUZZ_CHECK(s.size() <= max_len + 3);
  }
  return 0;
}

}  // namespace bp::fuzz
