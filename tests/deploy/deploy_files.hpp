#pragma once
// What the deployment tests share: reading files of the source tree and the BATON_* variables the
// binary reads, taken from its --help text.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "baton_percipio/cli/documents.hpp"

namespace bp::test {

inline std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(BP_SOURCE_DIR) + "/" + relative, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + relative);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every BATON_[A-Z_]+ word in a text.
inline std::set<std::string> baton_names_in(const std::string& text) {
  static const std::regex re("BATON_[A-Z_]+");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    out.insert(it->str());
  return out;
}

// The environment variables baton-percipio reads, as its usage text lists them.
inline const std::set<std::string>& known_env_names() {
  static const std::set<std::string> names = baton_names_in(bp::cli::usage_text());
  return names;
}

}  // namespace bp::test
