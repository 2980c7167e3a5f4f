#pragma once
// What the connector tells ConductorOne about itself in Hello (spec c1-service-mode.md 6.1, 6.4):
// build info, OS info with every field non-empty, and the connector metadata whose capabilities
// are exactly what `baton-percipio capabilities` prints (baton_capabilities.json).
#include <optional>
#include <string>
#include <string_view>

#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::service {

inline constexpr std::string_view connector_display_name = "Percipio Connector";
inline constexpr std::string_view connector_description = "Connector syncing users from Percipio";

// Resource types user and course (from bp::sync's mapping, the same records the sync writes), each
// with CAPABILITY_SYNC, sorted by id; connector capabilities [CAPABILITY_SYNC]; empty credential details.
c1::connector::v2::ConnectorCapabilities connector_capabilities();
c1::connector::v2::ConnectorMetadata connector_metadata();

using build_info = c1::connectorapi::baton::v1::BatonServiceHelloRequest::BuildInfo;
using os_info = c1::connectorapi::baton::v1::BatonServiceHelloRequest::OSInfo;

// lang_version "C++20 g++ 12", package "baton-percipio", package_version BP_VERSION.
build_info make_build_info();

// The members of /etc/os-release we use (values unquoted).
struct os_release {
  std::string id;          // "debian"
  std::string id_like;     // "debian" on Ubuntu; first word used
  std::string version_id;  // "12"
};
os_release parse_os_release(std::string_view text);

// uname(2), /etc/os-release (or /usr/lib/os-release) and container markers (/.dockerenv,
// /run/.containerenv, /proc/1/cgroup). Every field is non-empty: "unknown" where nothing is known.
os_info detect_os_info();

// BATON_HOST_ID when non-empty, else the host name, else "baton-sdk" (the SDK's fallback).
std::string resolve_host_id(std::optional<std::string> baton_host_id);

// The full Hello request. task_id is empty for the startup Hello and the task's id when answering
// a hello task.
c1::connectorapi::baton::v1::BatonServiceHelloRequest make_hello_request(std::string_view host_id,
                                                                         std::string_view task_id = {});

}  // namespace bp::service
