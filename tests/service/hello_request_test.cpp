#include "baton_percipio/service/hello_request.hpp"

#include <doctest/doctest.h>
#include <google/protobuf/any.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <fstream>
#include <sstream>

#include "baton_percipio/cli/documents.hpp"
#include "c1/connector/v2/annotation_resource.pb.h"

using namespace bp::service;
namespace v2 = c1::connector::v2;

namespace {

// A capabilities document (protobuf JSON of an Any) as the message it describes.
v2::ConnectorCapabilities from_capabilities_json(const std::string& json) {
  google::protobuf::Any any;
  auto st = google::protobuf::util::JsonStringToMessage(json, &any);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  v2::ConnectorCapabilities caps;
  REQUIRE(any.UnpackTo(&caps));
  return caps;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("hello: the capabilities are exactly baton_capabilities.json and what `capabilities` prints") {
  auto ours = connector_capabilities();
  for (const auto& json : {read(std::string(BP_SOURCE_DIR) + "/baton_capabilities.json"), bp::cli::capabilities_json()}) {
    auto reference = from_capabilities_json(json);
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    CHECK_MESSAGE(d.Compare(reference, ours), diff);
  }
  // Spelled out, so a failure says what changed.
  REQUIRE(ours.resource_type_capabilities_size() == 2);
  const auto& course = ours.resource_type_capabilities(0);
  const auto& user = ours.resource_type_capabilities(1);
  CHECK(course.resource_type().id() == "course");
  CHECK(course.resource_type().display_name() == "course");
  CHECK(course.resource_type().traits_size() == 0);
  CHECK(course.resource_type().annotations_size() == 0);
  CHECK(user.resource_type().id() == "user");
  CHECK(user.resource_type().display_name() == "User");
  REQUIRE(user.resource_type().traits_size() == 1);
  CHECK(user.resource_type().traits(0) == v2::ResourceType::TRAIT_USER);
  REQUIRE(user.resource_type().annotations_size() == 1);
  CHECK(user.resource_type().annotations(0).type_url() == "type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants");
  CHECK(user.resource_type().annotations(0).value().empty());
  for (const auto& rtc : ours.resource_type_capabilities()) {
    REQUIRE(rtc.capabilities_size() == 1);
    CHECK(rtc.capabilities(0) == v2::CAPABILITY_SYNC);
  }
  REQUIRE(ours.connector_capabilities_size() == 1);
  CHECK(ours.connector_capabilities(0) == v2::CAPABILITY_SYNC);
  CHECK(ours.has_credential_details());
}

TEST_CASE("hello: metadata names the connector as the Go connector does") {
  auto md = connector_metadata();
  CHECK(md.display_name() == "Percipio Connector");
  CHECK(md.description() == "Connector syncing users from Percipio");
  CHECK(md.has_capabilities());
}

TEST_CASE("hello: build info") {
  auto b = make_build_info();
  CHECK(b.lang_version().rfind("C++20 ", 0) == 0);
  CHECK(b.lang_version().size() > 6);
  CHECK(b.package() == "baton-percipio");
  CHECK(b.package_version() == BP_VERSION);
}

TEST_CASE("hello: os-release parsing") {
  auto r = parse_os_release(
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\r\n"
      "# a comment\n"
      "ID=debian\n"
      "VERSION_ID=\"12\"\n"
      "ID_LIKE='ubuntu debian'\n"
      "garbage line\n");
  CHECK(r.id == "debian");
  CHECK(r.version_id == "12");
  CHECK(r.id_like == "ubuntu debian");
  auto empty = parse_os_release("");
  CHECK(empty.id.empty());
}

TEST_CASE("hello: every OS info field is non-empty") {
  auto o = detect_os_info();
  const auto* desc = o.GetDescriptor();
  const auto* refl = o.GetReflection();
  REQUIRE(desc->field_count() == 8);
  for (int i = 0; i < desc->field_count(); ++i) {
    CAPTURE(desc->field(i)->name());
    CHECK_FALSE(refl->GetString(o, desc->field(i)).empty());
  }
  CHECK(o.os() == "linux");
}

TEST_CASE("hello: host id from BATON_HOST_ID, else the host name") {
  CHECK(resolve_host_id(std::string("pod-7")) == "pod-7");
  CHECK_FALSE(resolve_host_id(std::nullopt).empty());
  CHECK(resolve_host_id(std::string()) == resolve_host_id(std::nullopt));
}

TEST_CASE("hello: the request carries host id, task id and all three parts") {
  auto req = make_hello_request("host-1", "2abcdefghijklmnopqrstuvwxyz");
  CHECK(req.host_id() == "host-1");
  CHECK(req.task_id() == "2abcdefghijklmnopqrstuvwxyz");
  CHECK(req.has_build_info());
  CHECK(req.has_os_info());
  CHECK(req.connector_metadata().display_name() == "Percipio Connector");
  CHECK(make_hello_request("h").task_id().empty());
}
