#include "baton_percipio/cli/documents.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <simdjson.h>

#include <string>
#include <vector>

#include "baton_percipio/cli/config.hpp"

using namespace bp::cli;

namespace {

simdjson::dom::element parse_json(simdjson::dom::parser& p, const std::string& text) {
  simdjson::dom::element e;
  auto err = p.parse(text).get(e);
  REQUIRE_MESSAGE(err == simdjson::SUCCESS, simdjson::error_message(err));
  return e;
}

std::vector<std::string> strings(simdjson::dom::element arr) {
  std::vector<std::string> out;
  for (auto v : arr.get_array()) out.emplace_back(std::string_view(v.get_string()));
  return out;
}

std::vector<std::string> keys(simdjson::dom::element obj) {
  std::vector<std::string> out;
  for (auto field : obj.get_object()) out.emplace_back(field.key);
  return out;
}

std::string str(simdjson::dom::element e, std::string_view key) { return std::string(std::string_view(e[key].get_string())); }

}  // namespace

TEST_CASE("baton_capabilities.json in the repository is what `capabilities` prints") {
  std::ifstream in(std::string(BP_SOURCE_DIR) + "/baton_capabilities.json", std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK_MESSAGE(ss.str() == capabilities_json(),
                "regenerate it: baton-percipio capabilities > baton_capabilities.json");
}

TEST_CASE("capabilities JSON has the conventions' structure") {
  std::string text = capabilities_json();
  CHECK(text.back() == '}');  // no trailing newline
  CHECK(text.find("\n  \"@type\"") != std::string::npos);  // 2-space indentation
  simdjson::dom::parser p;
  auto doc = parse_json(p, text);
  CHECK(keys(doc) == std::vector<std::string>{"@type", "resourceTypeCapabilities", "connectorCapabilities",
                                              "credentialDetails"});
  CHECK(str(doc, "@type") == "type.googleapis.com/c1.connector.v2.ConnectorCapabilities");
  simdjson::dom::array rts = doc["resourceTypeCapabilities"];
  REQUIRE(rts.size() == 2);

  simdjson::dom::element course = rts.at(0);
  CHECK(keys(course) == std::vector<std::string>{"resourceType", "capabilities"});
  CHECK(keys(course["resourceType"]) == std::vector<std::string>{"id", "displayName"});
  CHECK(str(course["resourceType"], "id") == "course");
  CHECK(str(course["resourceType"], "displayName") == "course");  // lower case, as conventions 5 and format spec 7.6 give it
  CHECK(strings(course["capabilities"]) == std::vector<std::string>{"CAPABILITY_SYNC"});

  simdjson::dom::element user = rts.at(1);
  simdjson::dom::element urt = user["resourceType"];
  CHECK(keys(urt) == std::vector<std::string>{"id", "displayName", "traits", "annotations"});
  CHECK(str(urt, "id") == "user");
  CHECK(str(urt, "displayName") == "User");
  CHECK(strings(urt["traits"]) == std::vector<std::string>{"TRAIT_USER"});
  simdjson::dom::array ann = urt["annotations"];
  REQUIRE(ann.size() == 1);
  CHECK(keys(ann.at(0)) == std::vector<std::string>{"@type"});
  CHECK(str(ann.at(0), "@type") == "type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants");
  CHECK(strings(user["capabilities"]) == std::vector<std::string>{"CAPABILITY_SYNC"});

  CHECK(strings(doc["connectorCapabilities"]) == std::vector<std::string>{"CAPABILITY_SYNC"});
  CHECK(keys(doc["credentialDetails"]).empty());
}

TEST_CASE("config schema JSON lists the accepted fields sorted by name") {
  std::string text = config_schema_json();
  CHECK(text.back() == '}');
  simdjson::dom::parser p;
  auto doc = parse_json(p, text);
  CHECK(keys(doc) == std::vector<std::string>{"fields"});
  std::vector<std::string> names;
  for (simdjson::dom::element f : simdjson::dom::array(doc["fields"])) {
    names.push_back(str(f, "name"));
    CHECK_FALSE(str(f, "description").empty());
    int shapes = 0;
    for (auto k : {"stringField", "intField", "boolField", "stringSliceField", "stringMapField"}) {
      if (f[k].error() == simdjson::SUCCESS) ++shapes;
    }
    CHECK(shapes == 1);
  }
  CHECK(names == std::vector<std::string>{"api-token", "base-url", "c1z-temp-dir", "ca-file", "client-id",
                                          "client-secret", "concurrency", "limited-courses", "log-level",
                                          "max-page-bytes", "max-report-bytes", "organization-id", "proxy",
                                          "rate-limit", "report-lookback", "report-timeout"});
  simdjson::dom::array fields = doc["fields"];
  simdjson::dom::element token = fields.at(0);
  CHECK(keys(token) == std::vector<std::string>{"name", "description", "isRequired", "isSecret", "stringField"});
  CHECK(str(token, "description") == "The Percipio Bearer Token");
  CHECK(bool(token["isRequired"]));
  CHECK(bool(token["isSecret"]));
  CHECK(bool(token["stringField"]["rules"]["isRequired"]));

  // The ConductorOne service-mode credentials: the secret is marked as one.
  simdjson::dom::element client_secret = fields.at(5);
  CHECK(keys(client_secret) == std::vector<std::string>{"name", "description", "isSecret", "stringField"});
  CHECK(keys(fields.at(4)) == std::vector<std::string>{"name", "description", "stringField"});

  simdjson::dom::element courses = fields.at(7);
  CHECK(keys(courses) == std::vector<std::string>{"name", "description", "stringSliceField"});
  CHECK(keys(courses["stringSliceField"]) == std::vector<std::string>{"rules"});
  CHECK(keys(courses["stringSliceField"]["rules"]).empty());

  simdjson::dom::element level = fields.at(8);
  CHECK(keys(level) == std::vector<std::string>{"name", "description", "isOps", "stringField"});
  CHECK(str(level["stringField"], "defaultValue") == "info");

  simdjson::dom::element conc = fields.at(6);
  CHECK(str(conc["intField"], "defaultValue") == "8");
  CHECK(str(conc["intField"]["rules"], "gte") == "1");
  CHECK(str(conc["intField"]["rules"], "lte") == "64");

  simdjson::dom::element org = fields.at(11);
  CHECK(keys(org) == std::vector<std::string>{"name", "description", "isRequired", "stringField"});
  CHECK(str(org, "description") == "The Percipio Organization ID");
  CHECK(bool(org["stringField"]["rules"]["isRequired"]));
}

TEST_CASE("usage lists every flag with its environment variable") {
  std::string u = usage_text();
  for (auto flag : {"api-token", "base-url", "c1z-temp-dir", "ca-file", "client-id", "client-secret", "concurrency",
                    "file", "file-mode", "interval", "limited-courses", "log-format", "log-level", "max-page-bytes",
                    "max-report-bytes", "metrics-addr", "organization-id", "proxy", "rate-limit", "report-lookback",
                    "report-timeout"}) {
    CHECK_MESSAGE(u.find(std::string("--") + flag + " ") != std::string::npos, flag);
    CHECK_MESSAGE(u.find("($" + env_var_name(flag) + ")") != std::string::npos, flag);
  }
  CHECK(u.find("  -f, --file string") != std::string::npos);
  CHECK(u.find("  -h, --help") != std::string::npos);
  CHECK(u.find("  -v, --version") != std::string::npos);
  CHECK(u.find("required: The Percipio Bearer Token ($BATON_API_TOKEN)") != std::string::npos);
  CHECK(u.find("required: The Percipio Organization ID ($BATON_ORGANIZATION_ID)") != std::string::npos);
  CHECK(u.find("($BATON_FILE) (default \"sync.c1z\")") != std::string::npos);
  CHECK(u.find("($BATON_CONCURRENCY) (default 8)") != std::string::npos);
  for (auto cmd : {"capabilities", "config", "help", "inspect"}) {
    CHECK(u.find(std::string("\n  ") + cmd + " ") != std::string::npos);
  }
  // Exactly two required flags.
  std::size_t n = 0;
  for (auto pos = u.find("required: "); pos != std::string::npos; pos = u.find("required: ", pos + 1)) ++n;
  CHECK(n == 2);
}

TEST_CASE("version text") { CHECK(version_text() == std::string("baton-percipio version ") + BP_VERSION); }
