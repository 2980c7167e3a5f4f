#include "baton_percipio/service/hello_request.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/sync/mapping.hpp"
#include "c1/connector/v2/annotation_resource.pb.h"

#ifndef BP_VERSION
#define BP_VERSION "dev"
#endif

namespace bp::service {
namespace {

namespace v2 = c1::connector::v2;

constexpr std::string_view unknown = "unknown";

std::string or_unknown(std::string s) { return s.empty() ? std::string(unknown) : s; }

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const char* path) { return ::access(path, F_OK) == 0; }

// What gopsutil reports as virtualization_system for the common container runtimes.
std::string detect_virtualization() {
  if (exists("/.dockerenv")) return "docker";
  if (exists("/run/.containerenv")) return "podman";
  std::string cgroup = read_file("/proc/1/cgroup");
  if (cgroup.find("docker") != std::string::npos) return "docker";
  if (cgroup.find("kubepods") != std::string::npos) return "kubernetes";
  if (cgroup.find("lxc") != std::string::npos) return "lxc";
  return std::string(unknown);
}

// The same resource type record the sync writes, as a ResourceType message.
v2::ResourceType to_proto(const c1z::resource_type_record& rt) {
  v2::ResourceType out;
  out.set_id(rt.id);
  out.set_display_name(rt.display_name);
  for (auto t : rt.traits) out.add_traits(static_cast<v2::ResourceType::Trait>(t));
  if (rt.skip_entitlements_and_grants) out.add_annotations()->PackFrom(v2::SkipEntitlementsAndGrants());
  if (!rt.description.empty()) out.set_description(rt.description);
  return out;
}

std::string lang_version() {
  std::string v = "C++" + std::to_string(__cplusplus / 100 % 100);
#if defined(__clang__)
  v += " clang++ " + std::to_string(__clang_major__);
#elif defined(__GNUC__)
  v += " g++ " + std::to_string(__GNUC__);
#endif
  return v;
}

std::string unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return std::string(v);
}

}  // namespace

v2::ConnectorCapabilities connector_capabilities() {
  std::vector<c1z::resource_type_record> types = {sync::user_resource_type(), sync::course_resource_type()};
  // The SDK sorts resource type capabilities by resource type id.
  std::sort(types.begin(), types.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  v2::ConnectorCapabilities caps;
  for (const auto& rt : types) {
    auto* rtc = caps.add_resource_type_capabilities();
    *rtc->mutable_resource_type() = to_proto(rt);
    rtc->add_capabilities(v2::CAPABILITY_SYNC);
  }
  caps.add_connector_capabilities(v2::CAPABILITY_SYNC);
  caps.mutable_credential_details();  // present and empty, as the Go connector sends it
  return caps;
}

v2::ConnectorMetadata connector_metadata() {
  v2::ConnectorMetadata md;
  md.set_display_name(std::string(connector_display_name));
  md.set_description(std::string(connector_description));
  *md.mutable_capabilities() = connector_capabilities();
  return md;
}

build_info make_build_info() {
  build_info b;
  b.set_lang_version(lang_version());
  b.set_package("baton-percipio");
  b.set_package_version(BP_VERSION);
  return b;
}

os_release parse_os_release(std::string_view text) {
  os_release r;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos || line.starts_with('#')) continue;
    std::string_view key = line.substr(0, eq);
    std::string value = unquote(line.substr(eq + 1));
    if (key == "ID") r.id = value;
    else if (key == "ID_LIKE") r.id_like = value;
    else if (key == "VERSION_ID") r.version_id = value;
  }
  return r;
}

os_info detect_os_info() {
  os_info o;
  struct utsname u {};
  bool have_uname = ::uname(&u) == 0;
  const std::string sysname = ascii::lower(have_uname ? u.sysname : "");
  std::string text = read_file("/etc/os-release");
  if (text.empty()) text = read_file("/usr/lib/os-release");
  os_release rel = parse_os_release(text);
  std::string family = rel.id_like.empty() ? rel.id : rel.id_like.substr(0, rel.id_like.find(' '));
  o.set_hostname(or_unknown(have_uname ? u.nodename : ""));
  o.set_os(or_unknown(sysname));
  o.set_platform(or_unknown(rel.id));
  o.set_platform_version(or_unknown(rel.version_id));
  o.set_platform_family(or_unknown(family));
  o.set_kernel_version(or_unknown(have_uname ? u.release : ""));
  o.set_kernel_arch(or_unknown(have_uname ? u.machine : ""));
  o.set_virtualization_system(detect_virtualization());
  return o;
}

std::string resolve_host_id(std::optional<std::string> baton_host_id) {
  if (baton_host_id && !baton_host_id->empty()) return *baton_host_id;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') return name;
  return "baton-sdk";
}

c1::connectorapi::baton::v1::BatonServiceHelloRequest make_hello_request(std::string_view host_id,
                                                                         std::string_view task_id) {
  c1::connectorapi::baton::v1::BatonServiceHelloRequest req;
  req.set_host_id(std::string(host_id));
  req.set_task_id(std::string(task_id));
  *req.mutable_build_info() = make_build_info();
  *req.mutable_os_info() = detect_os_info();
  *req.mutable_connector_metadata() = connector_metadata();
  return req;
}

}  // namespace bp::service
