// Pins the generated descriptors of our .proto files to the spec tables (c1z-format.md section 6): full
// names (and so type URLs), field names, numbers, types and enum values. A renumbered or renamed field would
// still compile and round-trip through our own code but break wire compatibility with baton-sdk.
#include <c1/c1z/v1/annotation_sync_details.pb.h>
#include <c1/c1z/v1/diff.pb.h>
#include <c1/connector/v2/annotation_baton_id.pb.h>
#include <c1/connector/v2/annotation_entitlement.pb.h>
#include <c1/connector/v2/annotation_etag.pb.h>
#include <c1/connector/v2/annotation_external_link.pb.h>
#include <c1/connector/v2/annotation_grant.pb.h>
#include <c1/connector/v2/annotation_ratelimit.pb.h>
#include <c1/connector/v2/annotation_raw_id.pb.h>
#include <c1/connector/v2/annotation_resource.pb.h>
#include <c1/connector/v2/annotation_trait.pb.h>
#include <c1/connector/v2/annotation_v1_identifier.pb.h>
#include <c1/connector/v2/asset.pb.h>
#include <c1/connector/v2/entitlement.pb.h>
#include <c1/connector/v2/grant.pb.h>
#include <c1/connector/v2/resource.pb.h>
#include <c1/reader/v2/sync.pb.h>
#include <doctest/doctest.h>
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "c1z/test_util.hpp"

namespace v2 = c1::connector::v2;
namespace c1zv1 = c1::c1z::v1;
namespace rv2 = c1::reader::v2;
using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

namespace {

constexpr std::string_view kString = "string";
constexpr std::string_view kBool = "bool";
constexpr std::string_view kInt64 = "int64";
constexpr std::string_view kStruct = "google.protobuf.Struct";
constexpr std::string_view kTimestamp = "google.protobuf.Timestamp";
constexpr std::string_view kAny = "google.protobuf.Any";

// One row of a spec table. `type` is a scalar type name ("string", "bool", "int64") or the full name of the
// message or enum type.
struct Field {
  std::string_view name;
  int number;
  std::string_view type;
  bool repeated = false;
};

std::string type_of(const FieldDescriptor* f) {
  if (f->type() == FieldDescriptor::TYPE_MESSAGE) return f->message_type()->full_name();
  if (f->type() == FieldDescriptor::TYPE_ENUM) return f->enum_type()->full_name();
  return f->type_name();
}

// The message has exactly these fields (no more), each with the given number, type and cardinality.
void check_message(const Descriptor* d, std::string_view full_name, std::initializer_list<Field> fields) {
  REQUIRE(d != nullptr);
  INFO("message ", full_name);
  CHECK(d->full_name() == full_name);
  CHECK(d->field_count() == static_cast<int>(fields.size()));
  for (const Field& want : fields) {
    INFO("field ", want.name);
    const FieldDescriptor* f = d->FindFieldByName(std::string(want.name));
    REQUIRE(f != nullptr);
    CHECK(f->number() == want.number);
    CHECK(f->full_name() == std::string(full_name) + "." + std::string(want.name));
    CHECK(type_of(f) == want.type);
    CHECK(f->is_repeated() == want.repeated);
    CHECK(f->is_map() == false);
  }
}

void check_enum(const EnumDescriptor* e, std::string_view full_name,
                std::initializer_list<std::pair<std::string_view, int>> values) {
  REQUIRE(e != nullptr);
  INFO("enum ", full_name);
  CHECK(e->full_name() == full_name);
  CHECK(e->value_count() == static_cast<int>(values.size()));
  for (const auto& [name, number] : values) {
    INFO("value ", name);
    const auto* v = e->FindValueByName(std::string(name));
    REQUIRE(v != nullptr);
    CHECK(v->number() == number);
  }
}

template <class Msg>
std::string type_url_of() {
  google::protobuf::Any any;
  REQUIRE(any.PackFrom(Msg{}));
  return any.type_url();
}

}  // namespace

TEST_CASE("proto: existing c1.connector.v2 messages match spec 6.1 to 6.6 and 6.8") {
  check_message(v2::ResourceType::descriptor(), "c1.connector.v2.ResourceType",
                {{"id", 1, kString},
                 {"display_name", 2, kString},
                 {"traits", 3, "c1.connector.v2.ResourceType.Trait", true},
                 {"annotations", 4, kAny, true},
                 {"description", 5, kString},
                 {"sourced_externally", 6, kBool}});
  check_enum(v2::ResourceType::Trait_descriptor(), "c1.connector.v2.ResourceType.Trait",
             {{"TRAIT_UNSPECIFIED", 0},
              {"TRAIT_USER", 1},
              {"TRAIT_GROUP", 2},
              {"TRAIT_ROLE", 3},
              {"TRAIT_APP", 4},
              {"TRAIT_SECRET", 5}});
  check_message(v2::ResourceId::descriptor(), "c1.connector.v2.ResourceId",
                {{"resource_type", 1, kString}, {"resource", 2, kString}, {"baton_resource", 3, kBool}});
  check_message(v2::Grant::descriptor(), "c1.connector.v2.Grant",
                {{"entitlement", 1, "c1.connector.v2.Entitlement"},
                 {"principal", 2, "c1.connector.v2.Resource"},
                 {"id", 3, kString},
                 {"annotations", 4, kAny, true},
                 {"sources", 5, "c1.connector.v2.GrantSources"}});
  check_message(v2::AssetRef::descriptor(), "c1.connector.v2.AssetRef", {{"id", 1, kString}});
  check_message(v2::ETag::descriptor(), "c1.connector.v2.ETag",
                {{"value", 1, kString}, {"entitlement_id", 2, kString}});
  check_message(v2::ChildResourceType::descriptor(), "c1.connector.v2.ChildResourceType",
                {{"resource_type_id", 1, kString}});
  check_message(v2::SkipEntitlementsAndGrants::descriptor(), "c1.connector.v2.SkipEntitlementsAndGrants", {});
  CHECK(type_url_of<v2::UserTrait>() == "type.googleapis.com/c1.connector.v2.UserTrait");
  CHECK(type_url_of<v2::SkipEntitlementsAndGrants>() ==
        "type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants");
}

TEST_CASE("proto: other traits match spec 6.7") {
  check_message(v2::GroupTrait::descriptor(), "c1.connector.v2.GroupTrait",
                {{"icon", 1, "c1.connector.v2.AssetRef"}, {"profile", 2, kStruct}});
  check_message(v2::RoleTrait::descriptor(), "c1.connector.v2.RoleTrait", {{"profile", 1, kStruct}});
  check_message(v2::AppTrait::descriptor(), "c1.connector.v2.AppTrait",
                {{"help_url", 1, kString},
                 {"icon", 2, "c1.connector.v2.AssetRef"},
                 {"logo", 3, "c1.connector.v2.AssetRef"},
                 {"profile", 4, kStruct},
                 {"flags", 5, "c1.connector.v2.AppTrait.AppFlag", true}});
  check_enum(v2::AppTrait::AppFlag_descriptor(), "c1.connector.v2.AppTrait.AppFlag",
             {{"APP_FLAG_UNSPECIFIED", 0},
              {"APP_FLAG_HIDDEN", 1},
              {"APP_FLAG_INACTIVE", 2},
              {"APP_FLAG_SAML", 3},
              {"APP_FLAG_OIDC", 4},
              {"APP_FLAG_BOOKMARK", 5}});
  check_message(v2::SecretTrait::descriptor(), "c1.connector.v2.SecretTrait",
                {{"profile", 1, kStruct},
                 {"created_at", 2, kTimestamp},
                 {"expires_at", 3, kTimestamp},
                 {"last_used_at", 4, kTimestamp},
                 {"created_by_id", 5, "c1.connector.v2.ResourceId"},
                 {"identity_id", 6, "c1.connector.v2.ResourceId"}});
  CHECK(type_url_of<v2::GroupTrait>() == "type.googleapis.com/c1.connector.v2.GroupTrait");
  CHECK(type_url_of<v2::RoleTrait>() == "type.googleapis.com/c1.connector.v2.RoleTrait");
  CHECK(type_url_of<v2::AppTrait>() == "type.googleapis.com/c1.connector.v2.AppTrait");
  CHECK(type_url_of<v2::SecretTrait>() == "type.googleapis.com/c1.connector.v2.SecretTrait");
}

TEST_CASE("proto: AppTrait flags are a packed repeated enum (spec 6 wire reminders)") {
  v2::AppTrait app;
  app.add_flags(v2::AppTrait::APP_FLAG_HIDDEN);
  app.add_flags(v2::AppTrait::APP_FLAG_SAML);
  // field 5, wire type 2 (0x2a), length 2, varints 1 and 3.
  CHECK(app.SerializeAsString() == bp::c1z::test::from_hex("2a020103"));
}

TEST_CASE("proto: annotation messages match spec 6.8") {
  check_message(v2::ETagMatch::descriptor(), "c1.connector.v2.ETagMatch", {{"entitlement_id", 1, kString}});
  check_message(v2::RateLimitDescription::descriptor(), "c1.connector.v2.RateLimitDescription",
                {{"status", 1, "c1.connector.v2.RateLimitDescription.Status"},
                 {"limit", 2, kInt64},
                 {"remaining", 3, kInt64},
                 {"reset_at", 4, kTimestamp}});
  check_enum(v2::RateLimitDescription::Status_descriptor(), "c1.connector.v2.RateLimitDescription.Status",
             {{"STATUS_UNSPECIFIED", 0}, {"STATUS_OK", 1}, {"STATUS_OVERLIMIT", 2}, {"STATUS_ERROR", 3}});
  check_message(v2::GrantExpandable::descriptor(), "c1.connector.v2.GrantExpandable",
                {{"entitlement_ids", 1, kString, true},
                 {"shallow", 2, kBool},
                 {"resource_type_ids", 3, kString, true}});
  check_message(v2::GrantImmutable::descriptor(), "c1.connector.v2.GrantImmutable",
                {{"source_id", 1, kString}, {"metadata", 2, kStruct}});
  check_message(v2::GrantMetadata::descriptor(), "c1.connector.v2.GrantMetadata", {{"metadata", 1, kStruct}});
  check_message(v2::EntitlementImmutable::descriptor(), "c1.connector.v2.EntitlementImmutable",
                {{"source_id", 1, kString}, {"metadata", 2, kStruct}});
  check_message(v2::ExternalLink::descriptor(), "c1.connector.v2.ExternalLink", {{"url", 1, kString}});
  check_message(v2::V1Identifier::descriptor(), "c1.connector.v2.V1Identifier", {{"id", 1, kString}});
  check_message(v2::RawId::descriptor(), "c1.connector.v2.RawId", {{"id", 1, kString}});
  // Field names and numbers of the three match messages follow baton-sdk's annotation_baton_id.proto.
  check_message(v2::ExternalResourceMatch::descriptor(), "c1.connector.v2.ExternalResourceMatch",
                {{"resource_type", 1, "c1.connector.v2.ResourceType.Trait"},
                 {"key", 2, kString},
                 {"value", 3, kString}});
  check_message(v2::ExternalResourceMatchAll::descriptor(), "c1.connector.v2.ExternalResourceMatchAll",
                {{"resource_type", 1, "c1.connector.v2.ResourceType.Trait"}});
  check_message(v2::ExternalResourceMatchID::descriptor(), "c1.connector.v2.ExternalResourceMatchID",
                {{"id", 1, kString}});
  check_message(c1zv1::SyncDetails::descriptor(), "c1.c1z.v1.SyncDetails", {{"id", 1, kString}});

  CHECK(type_url_of<v2::ETagMatch>() == "type.googleapis.com/c1.connector.v2.ETagMatch");
  CHECK(type_url_of<v2::RateLimitDescription>() == "type.googleapis.com/c1.connector.v2.RateLimitDescription");
  CHECK(type_url_of<v2::GrantExpandable>() == "type.googleapis.com/c1.connector.v2.GrantExpandable");
  CHECK(type_url_of<v2::GrantImmutable>() == "type.googleapis.com/c1.connector.v2.GrantImmutable");
  CHECK(type_url_of<v2::GrantMetadata>() == "type.googleapis.com/c1.connector.v2.GrantMetadata");
  CHECK(type_url_of<v2::EntitlementImmutable>() == "type.googleapis.com/c1.connector.v2.EntitlementImmutable");
  CHECK(type_url_of<v2::ExternalLink>() == "type.googleapis.com/c1.connector.v2.ExternalLink");
  CHECK(type_url_of<v2::V1Identifier>() == "type.googleapis.com/c1.connector.v2.V1Identifier");
  CHECK(type_url_of<v2::RawId>() == "type.googleapis.com/c1.connector.v2.RawId");
  CHECK(type_url_of<v2::ExternalResourceMatch>() == "type.googleapis.com/c1.connector.v2.ExternalResourceMatch");
  CHECK(type_url_of<v2::ExternalResourceMatchAll>() ==
        "type.googleapis.com/c1.connector.v2.ExternalResourceMatchAll");
  CHECK(type_url_of<v2::ExternalResourceMatchID>() ==
        "type.googleapis.com/c1.connector.v2.ExternalResourceMatchID");
  CHECK(type_url_of<c1zv1::SyncDetails>() == "type.googleapis.com/c1.c1z.v1.SyncDetails");
}

TEST_CASE("proto: c1z-specific messages match spec 6.9") {
  check_message(rv2::SyncRun::descriptor(), "c1.reader.v2.SyncRun",
                {{"id", 1, kString},
                 {"started_at", 2, kTimestamp},
                 {"ended_at", 3, kTimestamp},
                 {"sync_token", 4, kString},
                 {"sync_type", 5, kString},
                 {"parent_sync_id", 6, kString}});
  check_message(c1zv1::ResourceDiff::descriptor(), "c1.c1z.v1.ResourceDiff",
                {{"created", 1, "c1.connector.v2.Resource", true},
                 {"deleted", 2, "c1.connector.v2.Resource", true},
                 {"modified", 3, "c1.connector.v2.Resource", true}});
  check_message(c1zv1::EntitlementDiff::descriptor(), "c1.c1z.v1.EntitlementDiff",
                {{"created", 1, "c1.connector.v2.Entitlement", true},
                 {"deleted", 2, "c1.connector.v2.Entitlement", true},
                 {"modified", 3, "c1.connector.v2.Entitlement", true}});
  check_message(c1zv1::GrantDiff::descriptor(), "c1.c1z.v1.GrantDiff",
                {{"created", 1, "c1.connector.v2.Grant", true},
                 {"deleted", 2, "c1.connector.v2.Grant", true},
                 {"modified", 3, "c1.connector.v2.Grant", true}});
  check_message(c1zv1::C1ZDiffOutput::descriptor(), "c1.c1z.v1.C1ZDiffOutput",
                {{"resources", 1, "c1.c1z.v1.ResourceDiff"},
                 {"entitlements", 2, "c1.c1z.v1.EntitlementDiff"},
                 {"grants", 3, "c1.c1z.v1.GrantDiff"}});
  CHECK(type_url_of<rv2::SyncRun>() == "type.googleapis.com/c1.reader.v2.SyncRun");
  CHECK(type_url_of<c1zv1::C1ZDiffOutput>() == "type.googleapis.com/c1.c1z.v1.C1ZDiffOutput");
}
