#include "baton_percipio/cli/documents.hpp"

#include <algorithm>
#include <string_view>

#include "baton_percipio/cli/config.hpp"
#include "baton_percipio/core/json_writer.hpp"
#include "flag_table.hpp"

#ifndef BP_VERSION
#define BP_VERSION "dev"
#endif

namespace bp::cli {
namespace {

using detail::flag_kind;

std::string_view type_name(flag_kind k) {
  switch (k) {
    case flag_kind::string: return "string";
    case flag_kind::strings: return "strings";
    case flag_kind::integer: return "int";
    case flag_kind::duration: return "duration";
    case flag_kind::size: return "size";
    case flag_kind::mode: return "mode";
    case flag_kind::boolean: return "";
  }
  return "";
}

}  // namespace

std::string version_text() { return std::string("baton-percipio version ") + BP_VERSION; }

std::string usage_text() {
  std::string out =
      "baton-percipio syncs Skillsoft Percipio users, courses and course completions into a Baton .c1z file.\n"
      "\n"
      "Usage:\n"
      "  baton-percipio [flags]\n"
      "  baton-percipio [command]\n"
      "\n"
      "Available Commands:\n"
      "  capabilities Get connector capabilities\n"
      "  config       Get the connector config schema\n"
      "  help         Help about any command\n"
      "  inspect      List what the latest finished sync in a c1z file holds (see inspect --help)\n"
      "\n"
      "Flags:\n";
  std::vector<std::string> heads;
  std::size_t width = 0;
  for (const auto& f : detail::flags()) {
    std::string head = f.short_name ? std::string("  -") + f.short_name + ", --" : std::string("      --");
    head += f.name;
    if (auto t = type_name(f.kind); !t.empty()) head += " " + std::string(t);
    width = std::max(width, head.size());
    heads.push_back(std::move(head));
  }
  std::size_t i = 0;
  for (const auto& f : detail::flags()) {
    std::string line = heads[i++];
    line.resize(width + 3, ' ');
    if (f.required) line += "required: ";
    line += f.help;
    if (f.kind != flag_kind::boolean) line += " ($" + env_var_name(f.name) + ")";
    if (!f.default_text.empty()) {
      bool numeric = f.kind == flag_kind::integer;
      line += numeric ? " (default " + std::string(f.default_text) + ")"
                      : " (default \"" + std::string(f.default_text) + "\")";
    }
    out += line + "\n";
  }
  out +=
      "\n"
      "Every setting can also come from its BATON_* environment variable; a flag wins over the\n"
      "environment. --limited-courses takes comma-separated ids and may be repeated.\n"
      "A non-empty --client-id runs ConductorOne service mode; it also reads $BATON_C1_API_HOST\n"
      "(host[:port] for the token and gRPC requests), $BATON_HOST_ID (default: the host name) and\n"
      "$SSL_CERT_FILE (an extra CA bundle for ConductorOne).\n"
      "Without --proxy, $HTTPS_PROXY (else $ALL_PROXY) selects an http:// proxy; $NO_PROXY lists\n"
      "hosts, domains, IPs and CIDR ranges reached directly (upper or lower case names).\n"
      "Exit status: 0 ok, 1 internal error, 2 configuration error, 3 authentication or permission\n"
      "failure, 4 Percipio failed after retries, 5 output file failure, 130 interrupted.\n";
  return out;
}

std::string capabilities_json() {
  std::string out;
  json::writer w(out, 2);
  auto caps = [&] { w.key("capabilities").begin_array().value("CAPABILITY_SYNC").end_array(); };
  w.begin_object();
  w.key("@type").value("type.googleapis.com/c1.connector.v2.ConnectorCapabilities");
  w.key("resourceTypeCapabilities").begin_array();
  // Sorted by resource type id; display names match what the sync writes.
  w.begin_object();
  w.key("resourceType").begin_object().key("id").value("course").key("displayName").value("course").end_object();
  caps();
  w.end_object();
  w.begin_object();
  w.key("resourceType").begin_object();
  w.key("id").value("user").key("displayName").value("User");
  w.key("traits").begin_array().value("TRAIT_USER").end_array();
  w.key("annotations").begin_array();
  w.begin_object().key("@type").value("type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants").end_object();
  w.end_array();
  w.end_object();
  caps();
  w.end_object();
  w.end_array();
  w.key("connectorCapabilities").begin_array().value("CAPABILITY_SYNC").end_array();
  w.key("credentialDetails").begin_object().end_object();
  w.end_object();
  return out;
}

std::string config_schema_json() {
  struct schema_field {
    std::string_view name;
    bool ops;
    bool secret;
  };
  // Connector settings plus the operator settings we implement (no OpenTelemetry), and the
  // ConductorOne service-mode credentials, sorted by name.
  static constexpr schema_field fields[] = {
      {"api-token", false, true},       {"base-url", false, false},        {"c1z-temp-dir", true, false},
      {"ca-file", true, false},         {"client-id", false, false},       {"client-secret", false, true},
      {"concurrency", true, false},     {"limited-courses", false, false}, {"log-level", true, false},
      {"max-page-bytes", true, false},  {"max-report-bytes", true, false}, {"organization-id", false, false},
      {"proxy", true, true},             {"rate-limit", true, false},
      {"report-lookback", false, false}, {"report-timeout", true, false},
  };
  std::string out;
  json::writer w(out, 2);
  w.begin_object().key("fields").begin_array();
  for (const auto& sf : fields) {
    const auto* f = detail::find_flag(sf.name);
    w.begin_object();
    w.key("name").value(f->name);
    w.key("description").value(f->help);
    if (f->required) w.key("isRequired").value(true);
    if (sf.ops) w.key("isOps").value(true);
    if (sf.secret) w.key("isSecret").value(true);
    switch (f->kind) {
      case flag_kind::strings:
        w.key("stringSliceField").begin_object().key("rules").begin_object().end_object().end_object();
        break;
      case flag_kind::integer:
        // int64 values are strings in protobuf JSON.
        w.key("intField").begin_object().key("defaultValue").value(f->default_text);
        w.key("rules").begin_object().key("lte").value("64").key("gte").value("1").end_object();
        w.end_object();
        break;
      default:
        w.key("stringField").begin_object();
        if (!f->default_text.empty()) w.key("defaultValue").value(f->default_text);
        if (f->required) w.key("rules").begin_object().key("isRequired").value(true).end_object();
        w.end_object();
        break;
    }
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

}  // namespace bp::cli
