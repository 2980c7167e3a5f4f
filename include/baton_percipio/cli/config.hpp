#pragma once
// Every setting of baton-percipio and the parser that fills them from flags, BATON_* environment
// variables and defaults (flag > environment > default; an empty value counts as not set).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/cli/exit_codes.hpp"
#include "baton_percipio/core/rate_limit.hpp"
#include "baton_percipio/net/proxy_config.hpp"

namespace bp::cli {

inline constexpr std::string_view us_base_url = "https://api.percipio.com";
inline constexpr std::string_view eu_base_url = "https://dew1-api.percipio.com";

struct config {
  std::string api_token;                     // secret: never printed
  std::string organization_id;               // a UUID
  std::vector<std::string> limited_courses;  // de-duplicated, in given order; empty = whole catalog
  std::string file = "sync.c1z";
  std::string log_level = "info";            // zap semantics: unknown names mean debug
  std::string log_format = "json";           // "console", anything else means json
  std::string base_url{us_base_url};         // normalised: no trailing '/'
  std::string ca_file;                       // empty: system CA store
  // --proxy / BATON_PROXY, else HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, and NO_PROXY (upper or lower
  // case): for Percipio and ConductorOne alike. Its password is a secret: never printed.
  net::proxy_config proxy;
  int concurrency = 8;                       // 1..64
  std::chrono::seconds report_timeout = std::chrono::hours(6);
  std::chrono::seconds report_lookback = std::chrono::hours(24 * 3650);
  std::optional<std::chrono::seconds> interval;  // unset: one sync, then exit
  std::string metrics_addr;                  // as given; empty: no metrics endpoint
  std::string metrics_host;                  // parsed from metrics_addr ("" = all interfaces)
  std::uint16_t metrics_port = 0;
  unsigned file_mode = 0600;
  std::string c1z_temp_dir;                  // empty: next to the output file
  std::uint64_t max_page_bytes = 64ULL << 20;
  std::uint64_t max_report_bytes = 16ULL << 30;
  bp::rate_limit rate_limit = bp::percipio_rate_limit;  // requests 0: no pacing
  // ConductorOne service mode (selected by a non-empty client id).
  std::string client_id;
  std::string client_secret;                 // secret: never printed
  std::string c1_api_host;                   // BATON_C1_API_HOST (environment only): "host" or "host:port"
  std::optional<std::string> host_id;        // BATON_HOST_ID (environment only); unset: the host name
  std::string ssl_cert_file;                 // SSL_CERT_FILE: extra CA bundle trusted for ConductorOne

  bool service_mode_requested() const { return !client_id.empty(); }
};

enum class command { sync, capabilities, config_schema, inspect, help, version };

struct parse_result {
  command cmd = command::sync;
  config cfg;                             // filled as far as parsing got, also on error
  std::vector<std::string> inspect_args;  // arguments after "inspect"
  int exit_code = exit_ok;
  std::string error;                      // one line starting "error: ", no newline; empty = ok
  bool ok() const { return error.empty(); }
};

// Looks up an environment variable; nullopt when unset. Injectable so tests never touch the process.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;
env_lookup process_env();

// "organization-id" -> "BATON_ORGANIZATION_ID".
std::string env_var_name(std::string_view flag_name);

// args: the command line without the program name. Checks everything that can be checked without
// touching the file system; see check_paths for the rest.
parse_result parse_config(std::span<const std::string_view> args, const env_lookup& env);

// Checks --ca-file (readable file) and --c1z-temp-dir (existing directory). Returns the error line.
std::optional<std::string> check_paths(const config& cfg);

}  // namespace bp::cli
