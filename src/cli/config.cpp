#include "baton_percipio/cli/config.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

#include "baton_percipio/cli/value_parsers.hpp"
#include "baton_percipio/core/json_writer.hpp"
#include "baton_percipio/core/rate_limit.hpp"
#include "flag_table.hpp"

namespace bp::cli {
namespace {

using detail::flag_kind;
using detail::flag_spec;

constexpr std::size_t max_shown_value = 80;

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (auto pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size())) {
    s.replace(pos, what.size(), with);
  }
}

using secret_list = std::vector<std::string>;

// A user-supplied value as it appears in a message: secrets replaced, JSON-quoted (so it stays on
// one line), shortened.
std::string quoted(std::string_view v, const secret_list& secrets = {}) {
  std::string redacted(v);
  for (const auto& s : secrets) replace_all(redacted, s, "[REDACTED]");
  v = redacted;
  std::string shown(v.substr(0, max_shown_value));
  if (v.size() > max_shown_value) shown += "...";
  std::string out;
  json::append_string(out, shown);
  return out;
}

std::string names(std::string_view flag) { return "--" + std::string(flag) + " / " + env_var_name(flag); }

// Flag occurrences in command-line order, by flag name.
using flag_values = std::map<std::string, std::vector<std::string>, std::less<>>;

class resolver {
 public:
  resolver(const flag_values& flags, const env_lookup& env) : flags_(flags), env_(env) {}

  // The last flag value, else the environment; empty values count as unset.
  std::optional<std::string> get(std::string_view name) const {
    if (auto it = flags_.find(name); it != flags_.end() && !it->second.empty() && !it->second.back().empty()) {
      return it->second.back();
    }
    if (env_) {
      if (auto v = env_(env_var_name(name)); v && !v->empty()) return v;
    }
    return std::nullopt;
  }

  // A variable outside the BATON_<FLAG> scheme (BATON_C1_API_HOST, BATON_HOST_ID, SSL_CERT_FILE).
  std::optional<std::string> env(std::string_view var) const {
    if (!env_) return std::nullopt;
    return env_(var);
  }

  // Flag occurrences (each comma-split) if any yields an item, else the environment's list.
  std::vector<std::string> get_list(std::string_view name) const {
    std::vector<std::string> items;
    if (auto it = flags_.find(name); it != flags_.end()) {
      for (const auto& v : it->second) {
        auto part = split_list(v);
        items.insert(items.end(), part.begin(), part.end());
      }
    }
    if (items.empty() && env_) {
      if (auto v = env_(env_var_name(name)); v) items = split_list(*v);
    }
    std::vector<std::string> unique;
    for (auto& i : items) {
      if (std::find(unique.begin(), unique.end(), i) == unique.end()) unique.push_back(std::move(i));
    }
    return unique;
  }

 private:
  const flag_values& flags_;
  const env_lookup& env_;
};

bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// Validates and stores every setting; returns the first problem.
std::optional<std::string> resolve_settings(const resolver& r, command cmd, const secret_list& secrets,
                                            config& c) {
  auto bad = [&](std::string_view flag, std::string_view expectation, std::string_view got) {
    return "error: " + names(flag) + " " + std::string(expectation) + ", got " + quoted(got, secrets);
  };

  c.api_token = std::string(trim(r.get("api-token").value_or("")));
  c.organization_id = std::string(trim(r.get("organization-id").value_or("")));
  c.client_id = std::string(trim(r.get("client-id").value_or("")));
  c.client_secret = std::string(trim(r.get("client-secret").value_or("")));

  if (cmd == command::sync && c.service_mode_requested() && c.client_secret.empty()) {
    return "error: " + names("client-secret") + " is required with " + names("client-id") + " (service mode)";
  }
  if (cmd == command::sync && !c.service_mode_requested() && !c.client_secret.empty()) {
    return "error: " + names("client-secret") + " is set but " + names("client-id") +
           " is not; set both for service mode, or neither to sync into a local file";
  }
  if (c.api_token.empty()) return "error: " + names("api-token") + " is required";
  if (has_space_or_control(c.api_token)) {
    return "error: " + names("api-token") + " must not contain spaces or control characters";
  }
  if (c.organization_id.empty()) return "error: " + names("organization-id") + " is required";
  if (!is_uuid(c.organization_id)) return bad("organization-id", "must be a UUID", c.organization_id);

  c.limited_courses = r.get_list("limited-courses");

  if (auto v = r.get("file")) c.file = *v;
  if (auto v = r.get("log-level")) c.log_level = std::string(trim(*v));
  if (auto v = r.get("log-format")) c.log_format = std::string(trim(*v));

  if (auto v = r.get("base-url")) {
    auto s = trim(*v);
    const std::string lower = ascii::lower(s);
    if (lower == "us") {
      c.base_url = us_base_url;
    } else if (lower == "eu") {
      c.base_url = eu_base_url;
    } else {
      auto url = parse_http_url(s);
      if (!url) return bad("base-url", "must be us, eu or an absolute http(s) URL", s);
      if (url->scheme == "http" && !is_loopback_host(url->host)) {
        return bad("base-url", "must use https (plain http only for loopback hosts)", s);
      }
      c.base_url = to_string(*url);
    }
  }

  if (auto v = r.get("ca-file")) c.ca_file = *v;

  {
    auto p = net::make_proxy_config(r.get("proxy").value_or(""), names("proxy"),
                                    [&r](std::string_view var) { return r.env(var); });
    if (!p.error.empty()) return "error: " + p.error;
    c.proxy = std::move(p.config);
  }

  if (auto v = r.get("concurrency")) {
    auto s = trim(*v);
    int n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n < 1 || n > 64) {
      return bad("concurrency", "must be an integer from 1 to 64", s);
    }
    c.concurrency = n;
  }

  auto duration = [&](std::string_view flag, std::string_view example,
                      std::chrono::seconds& out) -> std::optional<std::string> {
    if (auto v = r.get(flag)) {
      auto s = trim(*v);
      auto d = parse_duration(s);
      if (!d || d->count() <= 0) {
        return bad(flag, "must be a positive duration such as " + std::string(example), s);
      }
      out = *d;
    }
    return std::nullopt;
  };
  if (auto e = duration("report-timeout", "6h, 90m or 30s", c.report_timeout)) return e;
  if (auto e = duration("report-lookback", "3650d or 10y", c.report_lookback)) return e;
  std::chrono::seconds interval{0};
  if (auto e = duration("interval", "6h, 90m or 30s", interval)) return e;
  if (interval.count() > 0) c.interval = interval;

  if (auto v = r.get("metrics-addr")) {
    auto s = trim(*v);
    auto hp = parse_host_port(s);
    if (!hp) return bad("metrics-addr", "must be HOST:PORT", s);
    c.metrics_addr = std::string(s);
    c.metrics_host = hp->host;
    c.metrics_port = hp->port;
  }

  if (auto v = r.get("file-mode")) {
    auto s = trim(*v);
    auto m = parse_file_mode(s);
    if (!m) return bad("file-mode", "must be an octal mode up to 0777 such as 0600", s);
    c.file_mode = *m;
  }

  if (auto v = r.get("c1z-temp-dir")) c.c1z_temp_dir = *v;

  auto size = [&](std::string_view flag, std::string_view example,
                  std::uint64_t& out) -> std::optional<std::string> {
    if (auto v = r.get(flag)) {
      auto s = trim(*v);
      auto n = parse_size(s);
      if (!n || *n == 0) return bad(flag, "must be a positive size such as " + std::string(example), s);
      out = *n;
    }
    return std::nullopt;
  };
  if (auto e = size("max-page-bytes", "64M", c.max_page_bytes)) return e;
  if (auto e = size("max-report-bytes", "16G", c.max_report_bytes)) return e;

  if (auto v = r.get("rate-limit")) {
    auto s = trim(*v);
    auto rl = parse_rate_limit(s);
    if (!rl) return bad("rate-limit", "must be N/DURATION such as 100/20s or 500/1m (units ms, s, m, h), or 0 for none", s);
    c.rate_limit = *rl;
  }

  if (auto v = r.env("BATON_C1_API_HOST")) c.c1_api_host = std::string(trim(*v));
  if (auto v = r.env("BATON_HOST_ID"); v && !trim(*v).empty()) c.host_id = std::string(trim(*v));
  if (c.host_id && c.host_id->size() > 256) {
    return "error: BATON_HOST_ID must be at most 256 characters (ConductorOne refuses longer host ids), got " +
           std::to_string(c.host_id->size());
  }
  if (auto v = r.env("SSL_CERT_FILE")) c.ssl_cert_file = *v;
  if (cmd == command::sync && c.service_mode_requested()) {
    // ConductorOne decides when to sync and receives the file: these would be silently ignored.
    if (c.interval) {
      return "error: " + names("interval") +
             " does not apply in service mode (--client-id / BATON_CLIENT_ID is set): ConductorOne decides when "
             "to sync; unset it";
    }
    if (r.get("file")) {
      return "error: " + names("file") +
             " is not used in service mode (--client-id / BATON_CLIENT_ID is set): each sync is uploaded to "
             "ConductorOne from a temporary file in --c1z-temp-dir; unset it";
    }
  }
  return std::nullopt;
}

}  // namespace

env_lookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    std::string n(name);
    if (const char* v = std::getenv(n.c_str())) return std::string(v);
    return std::nullopt;
  };
}

std::string env_var_name(std::string_view flag_name) {
  std::string r = "BATON_";
  for (char ch : flag_name) {
    if (ch == '-') {
      r.push_back('_');
    } else if (ch >= 'a' && ch <= 'z') {
      r.push_back(static_cast<char>(ch - 'a' + 'A'));
    } else {
      r.push_back(ch);
    }
  }
  return r;
}

parse_result parse_config(std::span<const std::string_view> args, const env_lookup& env) {
  parse_result res;
  flag_values values;
  bool help = false;
  bool version = false;
  bool seen_command = false;
  bool only_positionals = false;
  std::string first_error;
  // Every value given for a secret, wherever it appears, so no message can echo one.
  secret_list secrets;
  auto add_secret = [&](std::string_view v) {
    for (auto x : {v, trim(v)}) {
      if (!x.empty() && std::find(secrets.begin(), secrets.end(), x) == secrets.end()) secrets.emplace_back(x);
    }
  };
  for (std::string_view name : {"api-token", "client-secret", "proxy"}) {
    if (env) {
      if (auto v = env(env_var_name(name))) add_secret(*v);
    }
    std::string flag = "--" + std::string(name);
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i] == flag && i + 1 < args.size()) add_secret(args[i + 1]);
      if (args[i].substr(0, flag.size() + 1) == flag + "=") add_secret(args[i].substr(flag.size() + 1));
    }
  }
  // Longest first, so a secret containing another is replaced whole.
  std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  auto fail = [&](std::string msg) {
    if (first_error.empty()) first_error = std::move(msg);
  };

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    const flag_spec* spec = nullptr;
    std::string shown;  // the flag as the user wrote it, without any value
    std::optional<std::string_view> inline_value;

    if (!only_positionals && a == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && a.size() > 2 && a.substr(0, 2) == "--") {
      auto body = a.substr(2);
      auto eq = body.find('=');
      auto name = body.substr(0, eq);
      if (eq != std::string_view::npos) inline_value = body.substr(eq + 1);
      shown = "--" + std::string(name);
      spec = detail::find_flag(name);
      if (!spec) {
        if (detail::is_unsupported_sdk_flag(name)) {
          fail("error: " + shown + " is not supported by baton-percipio");
        } else {
          fail("error: unknown flag " + quoted(shown, secrets) + " (see baton-percipio --help)");
        }
        continue;
      }
    } else if (!only_positionals && a.size() > 1 && a[0] == '-') {
      shown = std::string(a.substr(0, 2));
      spec = detail::find_short(a[1]);
      if (!spec) {
        if (a[1] == 'p') {
          fail("error: -p / --provisioning is not supported by baton-percipio");
        } else {
          fail("error: unknown flag " + quoted(shown, secrets) + " (see baton-percipio --help)");
        }
        continue;
      }
      if (a.size() > 2) inline_value = a[2] == '=' ? a.substr(3) : a.substr(2);
    } else {
      // A positional argument: the subcommand.
      if (!seen_command) {
        seen_command = true;
        if (a == "capabilities") {
          res.cmd = command::capabilities;
        } else if (a == "config") {
          res.cmd = command::config_schema;
        } else if (a == "help") {
          res.cmd = command::help;
        } else if (a == "inspect") {
          res.cmd = command::inspect;
          res.inspect_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
          break;
        } else {
          fail("error: unknown command " + quoted(a, secrets) + " for \"baton-percipio\" (see baton-percipio --help)");
        }
      } else if (res.cmd != command::help) {
        fail("error: unexpected argument " + quoted(a, secrets));
      }
      continue;
    }

    if (spec->kind == flag_kind::boolean) {
      if (inline_value) {
        fail("error: flag " + shown + " does not take a value");
        continue;
      }
      (spec->name == "help" ? help : version) = true;
      continue;
    }
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      fail("error: flag " + shown + " needs a value");
      continue;
    }
    values[std::string(spec->name)].emplace_back(value);
  }

  resolver r(values, env);
  if (first_error.empty()) {
    if (help || res.cmd == command::help) {
      res.cmd = command::help;
    } else if (version) {
      res.cmd = command::version;
    } else if (res.cmd == command::sync || res.cmd == command::capabilities) {
      if (auto e = resolve_settings(r, res.cmd, secrets, res.cfg)) {
        res.exit_code = exit_config;
        first_error = std::move(*e);
      }
    }
  }
  if (!first_error.empty()) {
    if (res.exit_code == exit_ok) res.exit_code = exit_config;
    res.error = std::move(first_error);
  }
  return res;
}

namespace {
// Certificates in a PEM file, read the way the TLS client will load it; 0 when there are none or
// the PEM is broken. Checked here so a bad file is a configuration error (exit 2), not a failure
// after the sync started.
std::size_t pem_certificates(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), &BIO_free);
  if (!bio) return 0;
  std::size_t n = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++n;
  }
  const unsigned long err = ERR_peek_last_error();
  // The loop ends with "no start line" at the end of the file; anything else is a broken PEM.
  if (err != 0 && !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) n = 0;
  ERR_clear_error();
  return n;
}
}  // namespace

std::optional<std::string> check_paths(const config& cfg) {
  secret_list secrets;
  for (const auto& x : {cfg.api_token, cfg.client_secret}) {
    if (!x.empty()) secrets.push_back(x);
  }
  if (!cfg.ca_file.empty()) {
    struct stat st {};
    if (::stat(cfg.ca_file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(cfg.ca_file.c_str(), R_OK) != 0) {
      return "error: " + names("ca-file") + " must be a readable file, got " + quoted(cfg.ca_file, secrets);
    }
    if (const auto n = pem_certificates(cfg.ca_file); n == 0) {
      return "error: " + names("ca-file") + " must be a PEM file with at least one CA certificate, got " +
             quoted(cfg.ca_file, secrets) + " (no PEM certificate in it)";
    }
  }
  if (!cfg.c1z_temp_dir.empty()) {
    struct stat st {};
    if (::stat(cfg.c1z_temp_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return "error: " + names("c1z-temp-dir") + " must be an existing directory, got " + quoted(cfg.c1z_temp_dir, secrets);
    }
  }
  return std::nullopt;
}

}  // namespace bp::cli
