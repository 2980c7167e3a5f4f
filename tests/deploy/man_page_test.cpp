// packaging/baton-percipio.1 documents every flag of `baton-percipio --help`, and the exit codes.
#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>

#include "baton_percipio/cli/documents.hpp"
#include "deploy/deploy_files.hpp"

TEST_CASE("man page: every flag and exit status is documented") {
  const std::string man = bp::test::read_source_file("packaging/baton-percipio.1");
  CHECK(man.find(".TH BATON-PERCIPIO 1") != std::string::npos);
  for (const char* section : {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH ENVIRONMENT",
                              ".SH EXIT STATUS"})
    CHECK_MESSAGE(man.find(section) != std::string::npos, section);

  const std::string usage = bp::cli::usage_text();
  static const std::regex flag_re("--([a-z][a-z0-9-]*)");
  std::set<std::string> flags;
  for (auto it = std::sregex_iterator(usage.begin(), usage.end(), flag_re); it != std::sregex_iterator(); ++it)
    flags.insert((*it)[1].str());
  CHECK(flags.size() >= 20);
  for (const auto& f : flags) {
    // troff spells "-" as "\-".
    std::string escaped = "\\-\\-" + std::regex_replace(f, std::regex("-"), "\\-");
    CHECK_MESSAGE(man.find(escaped) != std::string::npos, "--", f, " is not in the man page");
  }
  for (const char* code : {"0", "1", "2", "3", "4", "5", "130"})
    CHECK_MESSAGE(man.find(std::string(".B ") + code + "\n") != std::string::npos, "exit status ", code);
}
