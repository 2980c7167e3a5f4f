// Dockerfile and .dockerignore: no Docker engine here, so the file is parsed and its shape checked:
// a bookworm build stage with scripts/bootstrap's packages, a bookworm-slim runtime stage running
// the binary as a non-root user with its data on /data.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "baton_percipio/core/ascii.hpp"
#include "deploy/deploy_files.hpp"

namespace {

struct instruction {
  std::string keyword;  // upper case
  std::string args;     // continuation lines joined with a space
};

struct stage {
  std::string from;  // the FROM arguments
  std::vector<instruction> body;
  std::vector<const instruction*> all(const std::string& kw) const {
    std::vector<const instruction*> out;
    for (const auto& i : body)
      if (i.keyword == kw) out.push_back(&i);
    return out;
  }
};

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Instructions in order; comments and blank lines dropped, "\" continuations joined.
std::vector<instruction> parse_dockerfile(const std::string& text) {
  static const std::set<std::string> known = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY",
                                              "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD",
                                              "STOPSIGNAL", "HEALTHCHECK", "SHELL"};
  std::vector<instruction> out;
  std::istringstream in(text);
  std::string line, pending;
  int no = 0;
  while (std::getline(in, line)) {
    ++no;
    std::string t(bp::ascii::trim(line));
    if (t.starts_with("#")) continue;  // comments, also between continuation lines
    if (t.empty()) {
      REQUIRE_MESSAGE(pending.empty(), "blank line inside a continued instruction at line ", no);
      continue;
    }
    bool continued = t.ends_with("\\");
    if (continued) t = std::string(bp::ascii::trim(std::string_view(t).substr(0, t.size() - 1)));
    pending += (pending.empty() ? "" : " ") + t;
    if (continued) continue;
    auto sp = pending.find(' ');
    instruction i{pending.substr(0, sp), sp == std::string::npos ? "" : std::string(bp::ascii::trim(std::string_view(pending).substr(sp + 1)))};
    std::transform(i.keyword.begin(), i.keyword.end(), i.keyword.begin(), ::toupper);
    REQUIRE_MESSAGE(known.count(i.keyword) == 1, "unknown instruction ", i.keyword, " ending at line ", no);
    REQUIRE_MESSAGE(!i.args.empty(), i.keyword, " without arguments at line ", no);
    out.push_back(std::move(i));
    pending.clear();
  }
  REQUIRE_MESSAGE(pending.empty(), "the Dockerfile ends inside a continued instruction");
  return out;
}

std::vector<stage> stages(const std::vector<instruction>& ins) {
  std::vector<stage> out;
  for (const auto& i : ins) {
    if (i.keyword == "FROM") {
      out.push_back({i.args, {}});
    } else {
      REQUIRE_MESSAGE(!out.empty(), i.keyword, " before the first FROM");
      if (i.keyword != "ARG") out.back().body.push_back(i);
    }
  }
  return out;
}

// The packages of `apt-get install` commands in a stage.
std::set<std::string> apt_installed(const stage& s) {
  std::set<std::string> out;
  for (const auto* run : s.all("RUN")) {
    auto w = words(run->args);
    for (std::size_t i = 0; i + 1 < w.size(); ++i) {
      if (w[i] != "apt-get" || w[i + 1] != "install") continue;
      for (std::size_t j = i + 2; j < w.size() && w[j] != "&&"; ++j)
        if (!w[j].starts_with("-")) out.insert(w[j]);
    }
  }
  return out;
}

// The pkgs=(...) array of scripts/bootstrap.
std::set<std::string> bootstrap_packages() {
  std::string text = bp::test::read_source_file("scripts/bootstrap");
  auto open = text.find("pkgs=(");
  REQUIRE(open != std::string::npos);
  auto close = text.find(')', open);
  auto w = words(text.substr(open + 6, close - open - 6));
  return {w.begin(), w.end()};
}

}  // namespace

TEST_CASE("Dockerfile: a bookworm build stage and a bookworm-slim runtime stage") {
  auto all = stages(parse_dockerfile(bp::test::read_source_file("Dockerfile")));
  REQUIRE(all.size() == 2);

  const stage& build = all[0];
  auto from = words(build.from);
  REQUIRE(from.size() == 3);
  CHECK(from[0] == "debian:bookworm");
  CHECK((from[1] == "AS" || from[1] == "as"));
  CHECK(from[2] == "build");
  // The same packages as scripts/bootstrap, so the build works as it does on a developer machine.
  auto build_pkgs = apt_installed(build);
  for (const auto& p : bootstrap_packages()) CHECK_MESSAGE(build_pkgs.count(p) == 1, p, " is not installed in the build stage");
  CHECK(build_pkgs.count("dpkg-dev") == 1);  // cpack's dpkg-shlibdeps

  const stage& run = all[1];
  CHECK(words(run.from)[0] == "debian:bookworm-slim");
  auto run_pkgs = apt_installed(run);
  CHECK(run_pkgs.count("ca-certificates") == 1);
  for (const auto& p : run_pkgs) {
    // Only CA certificates and the runtime libraries the package depends on; no compilers or -dev.
    CHECK_MESSAGE(!p.ends_with("-dev"), p);
    bool build_only = bootstrap_packages().count(p) == 1 && p != "ca-certificates";
    CHECK_MESSAGE(!build_only, p, " is a build package");
  }
  bool copies_from_build = false;
  for (const auto* c : run.all("COPY")) copies_from_build |= c->args.starts_with("--from=build ");
  CHECK(copies_from_build);
}

TEST_CASE("Dockerfile: the runtime runs the binary as a non-root user with /data as a volume") {
  auto all = stages(parse_dockerfile(bp::test::read_source_file("Dockerfile")));
  REQUIRE(all.size() == 2);
  const stage& run = all.back();

  auto users = run.all("USER");
  REQUIRE(users.size() == 1);
  std::string user = users[0]->args.substr(0, users[0]->args.find(':'));
  CHECK(user != "root");
  CHECK(user != "0");
  CHECK(user == "65532");
  // The user is created with that id, and owns /data.
  std::string runs;
  for (const auto* r : run.all("RUN")) runs += r->args + " ";
  CHECK(runs.find("--uid 65532") != std::string::npos);
  CHECK(runs.find("chown 65532:65532 /data") != std::string::npos);

  auto entry = run.all("ENTRYPOINT");
  REQUIRE(entry.size() == 1);
  CHECK(entry[0]->args == "[\"/usr/bin/baton-percipio\"]");  // exec form: signals reach the binary
  CHECK(run.all("CMD").empty());

  auto workdir = run.all("WORKDIR");
  REQUIRE(workdir.size() == 1);
  CHECK(workdir[0]->args == "/data");
  auto volume = run.all("VOLUME");
  REQUIRE(volume.size() == 1);
  CHECK(volume[0]->args == "[\"/data\"]");

  // The default file is ./sync.c1z in /data; a BATON_FILE default would make service mode refuse
  // to start (a client id in the environment must be all it takes).
  for (const auto* e : run.all("ENV")) CHECK_MESSAGE(e->args.find("BATON_FILE=") == std::string::npos, e->args);

  // USER comes after the RUN that needs root, and nothing runs as root after it.
  bool after_user = false;
  for (const auto& i : run.body) {
    if (i.keyword == "USER") after_user = true;
    if (after_user) CHECK_MESSAGE(i.keyword != "RUN", "RUN after USER: ", i.args);
  }
}

TEST_CASE("Dockerfile: every BATON_* name is one the binary reads") {
  for (const auto& name : bp::test::baton_names_in(bp::test::read_source_file("Dockerfile")))
    CHECK_MESSAGE(bp::test::known_env_names().count(name) == 1, name);
}

TEST_CASE(".dockerignore keeps build trees and VCS data out of the context") {
  auto lines = words(bp::test::read_source_file(".dockerignore"));
  std::set<std::string> entries(lines.begin(), lines.end());
  CHECK(entries.count("build") == 1);
  CHECK(entries.count(".git") == 1);
  // What the build stage runs must stay in the context.
  for (const char* needed : {"scripts", "src", "include", "packaging", "third_party", "CMakeLists.txt"})
    CHECK_MESSAGE(entries.count(needed) == 0, needed);
}
