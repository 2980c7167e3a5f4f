#pragma once
// Page and status-object parsers (simdjson On-Demand). `context` names the request in error
// messages, e.g. "users page offset=2000" gives
// "users page offset=2000: malformed JSON at byte 1834 (TAPE_ERROR)".
// Unknown fields, nulls, missing optional fields and type drift in unused fields are tolerated.
#include <string>
#include <string_view>

#include "baton_percipio/percipio/error.hpp"
#include "baton_percipio/percipio/model.hpp"

namespace bp::percipio {

result<page<user>> parse_users_page(std::string_view body, std::string_view context);
// Catalog-content pages and search-content results share the item shape.
result<page<content_item>> parse_catalog_page(std::string_view body, std::string_view context);
result<page<content_item>> parse_search_results(std::string_view body, std::string_view context);

enum class report_state { pending, in_progress, processed, failed, other };

struct report_status {
  report_state state = report_state::other;
  std::string status;  // as sent
  std::string id;      // "id" or "reportId"
  std::string error;   // optional "error" member
};

// A report POST response or poll object.
result<report_status> parse_report_status(std::string_view body, std::string_view context);

// What a 200 poll body is, judged by its first non-whitespace byte (spec 6.3).
enum class body_kind { array, object, empty, malformed };
body_kind classify_report_body(std::string_view body_prefix) noexcept;

// Diagnostic text from an error body ({"errors":[{"code","additionalInfo"}]}, {"error": ...},
// or plain text), shortened to max_len bytes. Never fails.
std::string summarize_error_body(std::string_view body, std::size_t max_len = 300);

}  // namespace bp::percipio
