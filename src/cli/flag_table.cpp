#include "flag_table.hpp"

#include <algorithm>
#include <array>

namespace bp::cli::detail {
namespace {

using k = flag_kind;

constexpr std::array<flag_spec, 23> table{{
    {"api-token", 0, k::string, "", true, "The Percipio Bearer Token"},
    {"base-url", 0, k::string, "https://api.percipio.com", false,
     "Percipio API base URL, or us / eu for a data centre (plain http only for loopback hosts)"},
    {"c1z-temp-dir", 0, k::string, "", false,
     "Existing directory for temporary working files (service mode: files waiting for upload; default: the "
     "system temporary directory)"},
    {"ca-file", 0, k::string, "", false, "PEM file of CA certificates to trust in addition to the system store"},
    {"client-id", 0, k::string, "", false,
     "ConductorOne client id; setting it runs the connector in service mode, taking sync tasks from ConductorOne"},
    {"client-secret", 0, k::string, "", false, "ConductorOne client secret; required together with --client-id"},
    {"concurrency", 0, k::integer, "8", false, "Parallel requests to Percipio, 1 to 64"},
    {"file", 'f', k::string, "sync.c1z", false, "The path to the c1z file to sync with"},
    {"file-mode", 0, k::mode, "0600", false, "Octal permission bits of the c1z file and its temporary files"},
    {"help", 'h', k::boolean, "", false, "help for baton-percipio"},
    {"interval", 0, k::duration, "", false, "Sync repeatedly with this pause (e.g. 6h); unset: sync once and exit"},
    {"limited-courses", 0, k::strings, "", false,
     "Limit imported courses to a specific list by Course ID (comma-separated, repeatable)"},
    {"log-format", 0, k::string, "json", false, "The output format for logs: json, console"},
    {"log-level", 0, k::string, "info", false, "The log level: debug, info, warn, error"},
    {"max-page-bytes", 0, k::size, "64M", false, "Largest API response page accepted (K, M, G suffixes)"},
    {"max-report-bytes", 0, k::size, "16G", false, "Largest completion report accepted (K, M, G suffixes)"},
    {"metrics-addr", 0, k::string, "", false, "Serve Prometheus metrics, /healthz and /readyz on HOST:PORT"},
    {"organization-id", 0, k::string, "", true, "The Percipio Organization ID"},
    {"proxy", 0, k::string, "", false,
     "http:// proxy (http://[user:password@]host:port) for Percipio and ConductorOne; wins over HTTPS_PROXY, "
     "HTTP_PROXY and ALL_PROXY; NO_PROXY still applies"},
    {"rate-limit", 0, k::string, "100/20s", false,
     "Send at most N requests to Percipio in any DURATION, as N/DURATION (e.g. 100/20s, 500/1m); 0: no limit"},
    {"report-lookback", 0, k::duration, "3650d", false, "How far back the completion report reaches (units s, m, h, d, y)"},
    {"report-timeout", 0, k::duration, "6h", false, "How long to wait for the completion report to be ready"},
    {"version", 'v', k::boolean, "", false, "version for baton-percipio"},
}};

constexpr std::array<std::string_view, 40> unsupported{
    "skip-full-sync", "sync-resources", "provisioning", "ticketing", "external-resource-c1z",
    "external-resource-entitlement-id-filter", "otel-collector-endpoint",
    "otel-collector-endpoint-tls-cert-path", "otel-collector-endpoint-tls-cert",
    "otel-collector-endpoint-tls-insecure", "otel-tracing-disabled", "otel-logging-disabled",
    "grant-entitlement", "grant-principal", "grant-principal-type", "revoke-grant",
    "create-account-login", "create-account-email", "create-account-profile", "delete-resource",
    "delete-resource-type", "rotate-credentials", "rotate-credentials-type", "event-feed",
    "event-feed-id", "event-feed-start-at", "create-ticket", "ticket-template-path",
    "bulk-create-ticket", "bulk-ticket-template-path", "get-ticket", "ticket-id",
    "list-ticket-schemas", "diff-syncs", "base-sync-id", "applied-sync-id", "compact-syncs",
    "compact-file-paths", "compact-sync-ids", "compact-output-path"};

}  // namespace

std::span<const flag_spec> flags() { return table; }

const flag_spec* find_flag(std::string_view name) {
  auto it = std::find_if(table.begin(), table.end(), [&](const flag_spec& f) { return f.name == name; });
  return it == table.end() ? nullptr : &*it;
}

const flag_spec* find_short(char c) {
  auto it = std::find_if(table.begin(), table.end(), [&](const flag_spec& f) { return f.short_name == c; });
  return it == table.end() ? nullptr : &*it;
}

bool is_unsupported_sdk_flag(std::string_view name) {
  return std::find(unsupported.begin(), unsupported.end(), name) != unsupported.end();
}

}  // namespace bp::cli::detail
