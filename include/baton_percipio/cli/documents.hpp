#pragma once
// The texts the command prints on stdout: usage, `capabilities` and `config` (conventions 5 and 6).
#include <string>

namespace bp::cli {

// --help: every flag with its ($BATON_...) variable; required ones start with "required: ".
std::string usage_text();
// `baton-percipio version <BP_VERSION>`, without newline.
std::string version_text();
// ConnectorCapabilities as protobuf JSON inside an Any, 2-space indent, no trailing newline.
std::string capabilities_json();
// c1.config.v1.Configuration of the fields we accept that belong in the schema, sorted by name.
std::string config_schema_json();

}  // namespace bp::cli
