#include "baton_percipio/c1z/records.hpp"

#include <c1/connector/v2/annotation_trait.pb.h>
#include <c1/connector/v2/grant.pb.h>
#include <doctest/doctest.h>
#include <google/protobuf/util/message_differencer.h>

#include "c1z/percipio_example.hpp"
#include "c1z/test_util.hpp"

using namespace bp::c1z;
using namespace bp::c1z::test;
namespace v2 = c1::connector::v2;

namespace {

// Spec 7.6 test vectors.
constexpr std::string_view user_type_hex =
    "0a04757365721204557365721a0101223f0a3d747970652e676f6f676c65617069732e636f6d2f63312e636f6e6e"
    "6563746f722e76322e536b6970456e7469746c656d656e7473416e644772616e7473";
constexpr std::string_view course_type_hex = "0a06636f757273651206636f75727365";
constexpr std::string_view course_hex = "0a0f0a06636f757273651205632d3132331a0c496e74726f20746f20432b2b4001";
constexpr std::string_view entitlement_hex =
    "0a210a0f0a06636f757273651205632d3132331a0c496e74726f20746f20432b2b40011216636f757273653a632d"
    "3132333a636f6d706c657465641a1d436f7572736520496e74726f20746f20432b2b20636f6d706c657465642229"
    "436f6d706c6574656420636f7572736520496e74726f20746f20432b2b20696e20506572636970696f2a500a0475"
    "7365721204557365721a0101223f0a3d747970652e676f6f676c65617069732e636f6d2f63312e636f6e6e656374"
    "6f722e76322e536b6970456e7469746c656d656e7473416e644772616e747338014209636f6d706c65746564";
constexpr std::string_view grant_hex =
    "0a670a4d0a0f0a06636f757273651205632d3132331a0c496e74726f20746f20432b2b222a0a28747970652e676f"
    "6f676c65617069732e636f6d2f63312e636f6e6e6563746f722e76322e4554616740011216636f757273653a632d"
    "3132333a636f6d706c65746564120d0a0b0a04757365721203752d391a1f636f757273653a632d3132333a636f6d"
    "706c657465643a757365723a752d39";
constexpr std::string_view user_hex =
    "0a0b0a04757365721203752d391a0c416461204c6f76656c61636522a9030a2d747970652e676f6f676c65617069"
    "732e636f6d2f63312e636f6e6e6563746f722e76322e55736572547261697412f7020a130a0f616461406578616d"
    "706c652e636f6d1001120208011ad4020a0b0a02696412051a03752d390a200a0b65787465726e616c5f69641211"
    "1a0f616461406578616d706c652e636f6d0a160a10617070726f76616c5f6d616e6167657212021a000a1a0a0565"
    "6d61696c12111a0f616461406578616d706c652e636f6d0a130a0a66697273745f6e616d6512051a034164610a12"
    "0a0c6861735f636f616368696e67120220000a1d0a176861735f656e74657270726973655f636f616368696e6712"
    "0220000a270a216861735f656e74657270726973655f636f616368696e675f64617368626f617264120220000a0f"
    "0a0969735f616374697665120220010a130a0d69735f696e7374727563746f72120220000a170a096a6f625f7469"
    "746c65120a1a08456e67696e6565720a170a096c6173745f6e616d65120a1a084c6f76656c6163650a130a0a6c6f"
    "67696e5f6e616d6512051a036164610a110a04726f6c6512091a074c4541524e4552280132036164614001";

template <typename M>
M parse(std::string_view bytes) {
  M m;
  REQUIRE(m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  return m;
}

template <typename M>
bool same(const M& a, const M& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

TEST_CASE("resource types match the spec test vectors") {
  CHECK(to_hex(encode_resource_type(user_type())) == user_type_hex);
  CHECK(to_hex(encode_resource_type(course_type())) == course_type_hex);
  CHECK(encode_resource_type(user_type()).size() == 80);
}

TEST_CASE("course resource and entitlement match the spec test vectors") {
  CHECK(to_hex(encode_resource(course_c123())) == course_hex);
  const auto ent = encode_entitlement(course_c123(), completed_entitlement());
  CHECK(ent.size() == 228);
  CHECK(to_hex(ent) == entitlement_hex);
  const auto m = parse<v2::Entitlement>(ent);
  CHECK(m.id() == "course:c-123:completed");
  CHECK(m.purpose() == v2::Entitlement::PURPOSE_VALUE_ASSIGNMENT);
  CHECK(m.grantable_to_size() == 1);
}

TEST_CASE("grant matches the spec test vector, via encode_grant and grant_encoder") {
  std::string out;
  encode_grant(course_c123(), "completed", "user", "u-9", out);
  CHECK(out.size() == 153);
  CHECK(to_hex(out) == grant_hex);

  const grant_encoder enc(course_c123(), "completed");
  CHECK(enc.entitlement_id() == "course:c-123:completed");
  std::string buf;
  const auto v = enc.encode(buf, "user", "u-9");
  CHECK(to_hex(v.bytes) == grant_hex);
  CHECK(v.id == "course:c-123:completed:user:u-9");
}

TEST_CASE("user resource with UserTrait matches the spec vector and libprotobuf") {
  const auto bytes = encode_resource(user_u9());
  CHECK(bytes.size() == 457);
  CHECK(to_hex(bytes) == user_hex);
  // Profile order is free in general, so also compare as parsed messages.
  const auto ours = parse<v2::Resource>(bytes);
  const auto spec = parse<v2::Resource>(from_hex(user_hex));
  CHECK(same(ours, spec));
  v2::UserTrait trait;
  REQUIRE(ours.annotations_size() == 1);
  REQUIRE(ours.annotations(0).UnpackTo(&trait));
  CHECK(trait.login() == "ada");
  CHECK(trait.account_type() == v2::UserTrait::ACCOUNT_TYPE_HUMAN);
  CHECK(trait.profile().fields().at("is_active").bool_value());
}

TEST_CASE("user trait edge cases: no email, no login, disabled, numbers and nulls") {
  user_trait_record t;
  t.emails = {{"", true}};
  t.enabled = false;
  t.profile = {{"n", 2.5}, {"z", profile_null{}}, {"s", std::string("\xff")}};
  const auto r = parse<v2::Resource>(encode_resource({"user", "u-1", "X", "", t}));
  v2::UserTrait trait;
  REQUIRE(r.annotations(0).UnpackTo(&trait));
  CHECK(trait.emails_size() == 0);
  CHECK(trait.login().empty());
  CHECK(trait.status().status() == v2::UserTrait::Status::STATUS_DISABLED);
  CHECK(trait.profile().fields().at("n").number_value() == 2.5);
  CHECK(trait.profile().fields().at("z").kind_case() == google::protobuf::Value::kNullValue);
  CHECK(trait.profile().fields().at("s").string_value() == "\xef\xbf\xbd");  // repaired UTF-8
}

TEST_CASE("grant_encoder bytes equal the libprotobuf encoding of the same Grant") {
  const resource_record owner{"course", "c-9", "Long course name", "desc", std::nullopt};
  const grant_encoder enc(owner, "in_progress");

  v2::Grant g;
  auto* e = g.mutable_entitlement();
  auto* r = e->mutable_resource();
  r->mutable_id()->set_resource_type("course");
  r->mutable_id()->set_resource("c-9");
  r->set_display_name("Long course name");
  r->add_annotations()->set_type_url("type.googleapis.com/c1.connector.v2.ETag");
  r->set_description("desc");
  r->set_creation_source(v2::Resource::CREATION_SOURCE_CONNECTOR_LIST_RESOURCES);
  e->set_id("course:c-9:in_progress");
  std::string out;
  for (const std::string& pid : {std::string("u"), std::string(200, 'p'), std::string(20000, 'q')}) {
    g.mutable_principal()->mutable_id()->set_resource_type("user");
    g.mutable_principal()->mutable_id()->set_resource(pid);
    g.set_id("course:c-9:in_progress:user:" + pid);
    std::string expected;
    REQUIRE(g.SerializeToString(&expected));
    out.clear();
    out.append("prefix");
    const auto a = enc.append(out, "user", pid);
    CHECK(a.offset == 6);
    CHECK(out.substr(a.offset, a.size) == expected);
    CHECK(out.substr(a.id_offset, a.id_size) == g.id());
  }
}

TEST_CASE("ids") {
  CHECK(make_entitlement_id("course", "c-1", "completed") == "course:c-1:completed");
  CHECK(make_grant_id("course:c-1:completed", "user", "u") == "course:c-1:completed:user:u");
}
