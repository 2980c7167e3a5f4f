// Config and flag parsing with an injected environment: arguments and environment entries come
// from NUL-separated pieces of the input. Parsing never throws, errors are one line, and a
// distinctive token never appears in an error message.
#include <map>
#include <string>
#include <vector>

#include "baton_percipio/cli/config.hpp"
#include "baton_percipio/cli/value_parsers.hpp"
#include "fuzz/targets.hpp"

namespace bp::fuzz {
namespace {

// A token the fuzzer cannot easily produce by accident inside error text.
bool distinctive(std::string_view t) {
  if (t.size() < 12) return false;
  bool lower = false, upper = false, digit = false;
  for (char c : t) {
    if (c >= 'a' && c <= 'z') lower = true;
    else if (c >= 'A' && c <= 'Z') upper = true;
    else if (c >= '0' && c <= '9') digit = true;
    else return false;
  }
  return lower && upper && digit;
}

}  // namespace

int config(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  const std::size_t n_args = in.byte() % 16;
  const std::string_view text = in.rest();
  std::vector<std::string> pieces;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto end = text.find('\0', pos);
    pieces.emplace_back(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  std::vector<std::string_view> args;
  std::map<std::string, std::string, std::less<>> env;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (i < n_args) {
      args.emplace_back(pieces[i]);
    } else if (auto eq = pieces[i].find('='); eq != std::string::npos) {
      env[pieces[i].substr(0, eq)] = pieces[i].substr(eq + 1);
    }
  }
  cli::env_lookup lookup = [&](std::string_view name) -> std::optional<std::string> {
    if (auto it = env.find(name); it != env.end()) return it->second;
    return std::nullopt;
  };
  auto r = cli::parse_config(args, lookup);
  if (!r.ok()) {
    BP_FUZZ_CHECK(r.error.rfind("error: ", 0) == 0);
    BP_FUZZ_CHECK(r.error.find('\n') == std::string::npos);
    BP_FUZZ_CHECK(r.exit_code != cli::exit_ok);
    if (distinctive(r.cfg.api_token)) BP_FUZZ_CHECK(r.error.find(r.cfg.api_token) == std::string::npos);
    if (distinctive(r.cfg.client_secret)) BP_FUZZ_CHECK(r.error.find(r.cfg.client_secret) == std::string::npos);
  } else if (r.cmd == cli::command::sync) {
    BP_FUZZ_CHECK(r.cfg.concurrency >= 1 && r.cfg.concurrency <= 64);
    BP_FUZZ_CHECK(r.cfg.file_mode <= 0777);
  }

  // The value parsers on every piece.
  for (const auto& p : pieces) {
    (void)cli::is_uuid(p);
    (void)cli::parse_duration(p);
    (void)cli::parse_size(p);
    if (auto m = cli::parse_file_mode(p)) BP_FUZZ_CHECK(*m <= 0777);
    (void)cli::parse_host_port(p);
    if (auto u = cli::parse_http_url(p)) (void)cli::to_string(*u);
    (void)cli::split_list(p);
  }
  return 0;
}

}  // namespace bp::fuzz
