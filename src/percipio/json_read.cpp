#include "json_read.hpp"

#include <fmt/format.h>

namespace bp::percipio::detail {
namespace {

const char* error_name(simdjson::error_code e) noexcept {
  using namespace simdjson;
  switch (e) {
    case SUCCESS: return "SUCCESS";
    case CAPACITY: return "CAPACITY";
    case MEMALLOC: return "MEMALLOC";
    case TAPE_ERROR: return "TAPE_ERROR";
    case DEPTH_ERROR: return "DEPTH_ERROR";
    case STRING_ERROR: return "STRING_ERROR";
    case T_ATOM_ERROR: return "T_ATOM_ERROR";
    case F_ATOM_ERROR: return "F_ATOM_ERROR";
    case N_ATOM_ERROR: return "N_ATOM_ERROR";
    case NUMBER_ERROR: return "NUMBER_ERROR";
    case UTF8_ERROR: return "UTF8_ERROR";
    case EMPTY: return "EMPTY";
    case UNESCAPED_CHARS: return "UNESCAPED_CHARS";
    case UNCLOSED_STRING: return "UNCLOSED_STRING";
    case INCORRECT_TYPE: return "INCORRECT_TYPE";
    case NUMBER_OUT_OF_RANGE: return "NUMBER_OUT_OF_RANGE";
    case INDEX_OUT_OF_BOUNDS: return "INDEX_OUT_OF_BOUNDS";
    case NO_SUCH_FIELD: return "NO_SUCH_FIELD";
    case OUT_OF_ORDER_ITERATION: return "OUT_OF_ORDER_ITERATION";
    case INSUFFICIENT_PADDING: return "INSUFFICIENT_PADDING";
    case INCOMPLETE_ARRAY_OR_OBJECT: return "INCOMPLETE_ARRAY_OR_OBJECT";
    case SCALAR_DOCUMENT_AS_VALUE: return "SCALAR_DOCUMENT_AS_VALUE";
    case OUT_OF_BOUNDS: return "OUT_OF_BOUNDS";
    case TRAILING_CONTENT: return "TRAILING_CONTENT";
    default: return "JSON_ERROR";
  }
}

}  // namespace

thread_state& local_state() {
  thread_local thread_state s;
  return s;
}

failure json_failure(std::string_view context, simdjson::error_code e, std::size_t offset) {
  return make_failure(errc::malformed_response,
                      fmt::format("{}: malformed JSON at byte {} ({})", context, offset, error_name(e)));
}

std::size_t location_of(od::document& doc, const char* base, std::size_t fallback) noexcept {
  const char* p = nullptr;
  if (doc.current_location().get(p) || p == nullptr || p < base) return fallback;
  return static_cast<std::size_t>(p - base);
}

}  // namespace bp::percipio::detail
