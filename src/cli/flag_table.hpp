#pragma once
// The flags baton-percipio accepts, in the order --help lists them (by name, as cobra does).
// One table drives parsing, the usage text and the configuration schema.
#include <span>
#include <string_view>

namespace bp::cli::detail {

enum class flag_kind { string, strings, integer, duration, size, mode, boolean };

struct flag_spec {
  std::string_view name;
  char short_name;                // 0: none
  flag_kind kind;
  std::string_view default_text;  // as shown in --help; empty: none
  bool required;
  std::string_view help;          // without the "required: " prefix and the ($BATON_...) suffix
};

std::span<const flag_spec> flags();
const flag_spec* find_flag(std::string_view name);
const flag_spec* find_short(char c);
// baton-sdk flags this connector recognises but does not implement.
bool is_unsupported_sdk_flag(std::string_view name);

}  // namespace bp::cli::detail
