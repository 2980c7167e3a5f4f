#pragma once
// Helpers shared by the cli tests: a fake environment and a parse call over string literals.
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/cli/config.hpp"

namespace bp::cli::test {

inline constexpr std::string_view org = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
inline constexpr std::string_view token = "s3cr3t-T0ken-value";

inline env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    if (auto it = vars.find(std::string(name)); it != vars.end()) return it->second;
    return std::nullopt;
  };
}

inline parse_result parse(std::initializer_list<std::string_view> args, std::map<std::string, std::string> env = {}) {
  std::vector<std::string_view> v(args);
  return parse_config(v, fake_env(std::move(env)));
}

// Required settings supplied through the environment.
inline std::map<std::string, std::string> base_env() {
  return {{"BATON_API_TOKEN", std::string(token)}, {"BATON_ORGANIZATION_ID", std::string(org)}};
}

}  // namespace bp::cli::test
