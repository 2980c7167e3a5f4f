// The hand-written c1.connectorapi.baton.v1 protos must match baton-sdk on the wire: these tests pin
// the field numbers the service-mode protocol depends on by looking at serialized bytes.
#include <doctest/doctest.h>

#include <string>

#include "c1/connectorapi/baton/v1/baton.grpc.pb.h"
#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace {

namespace v1 = c1::connectorapi::baton::v1;

// A length-delimited field key as a varint: (number << 3) | 2.
std::string key(int number) {
  unsigned v = (static_cast<unsigned>(number) << 3) | 2U;
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

}  // namespace

TEST_CASE("Task with sync_full: field 102 on the wire, options at 2..7, round trip") {
  v1::Task task;
  task.set_id("2abcdefghijklmnopqrstuvwxyz");
  task.mutable_sync_full()->set_skip_grants(true);  // field 6, varint 1

  std::string wire;
  REQUIRE(task.SerializeToString(&wire));
  const std::string expected = std::string("\x0a\x1b", 2) + "2abcdefghijklmnopqrstuvwxyz" + key(102) +
                               std::string("\x02\x30\x01", 3);
  CHECK(key(102) == std::string("\xb2\x06", 2));
  CHECK(wire == expected);

  auto* full = task.mutable_sync_full();
  full->set_skip_expand_grants(true);
  full->set_skip_entitlements_and_grants(true);
  full->add_targeted_sync_resources()->set_display_name("r");
  full->add_sync_resource_type_ids("user");
  full->set_storage_engine("sqlite");
  REQUIRE(task.SerializeToString(&wire));

  v1::Task back;
  REQUIRE(back.ParseFromString(wire));
  CHECK(back.id() == task.id());
  REQUIRE(back.task_type_case() == v1::Task::kSyncFull);
  CHECK(back.sync_full().skip_expand_grants());
  CHECK(back.sync_full().skip_entitlements_and_grants());
  CHECK(back.sync_full().skip_grants());
  CHECK(back.sync_full().targeted_sync_resources(0).display_name() == "r");
  CHECK(back.sync_full().sync_resource_type_ids(0) == "user");
  CHECK(back.sync_full().storage_engine() == "sqlite");

  std::string payload;
  REQUIRE(back.sync_full().SerializeToString(&payload));
  CHECK(payload.find(std::string("\x10\x01", 2)) != std::string::npos);  // skip_expand_grants = 2
  CHECK(payload.find(std::string("\x18\x01", 2)) != std::string::npos);  // skip_entitlements_and_grants = 3
  CHECK(payload.find(key(7) + "\x06sqlite") != std::string::npos);       // storage_engine = 7
}

TEST_CASE("oneof members keep their numbers (100..123)") {
  auto member = [](auto set) {
    v1::Task task;
    set(task);
    std::string wire;
    REQUIRE(task.SerializeToString(&wire));
    return wire;
  };
  CHECK(member([](v1::Task& t) { t.mutable_none(); }) == key(100) + '\0');
  CHECK(member([](v1::Task& t) { t.mutable_hello(); }) == key(101) + '\0');
  CHECK(member([](v1::Task& t) { t.mutable_grant(); }) == key(103) + '\0');
  CHECK(member([](v1::Task& t) { t.mutable_revoke(); }) == key(104) + '\0');
  CHECK(member([](v1::Task& t) { t.mutable_event_feed(); }) == key(109) + '\0');
  CHECK(member([](v1::Task& t) { t.mutable_compact_syncs(); }) == key(120) + '\0');
  CHECK(member([](v1::Task& t) { t.mutable_issue_credential(); }) == key(123) + '\0');
}

TEST_CASE("an unknown task member survives as an unknown field and leaves the oneof unset") {
  // Member 124 does not exist in our proto; a newer server could send one.
  const std::string wire = key(124) + '\0';
  v1::Task task;
  REQUIRE(task.ParseFromString(wire));
  CHECK(task.task_type_case() == v1::Task::TASK_TYPE_NOT_SET);
}

TEST_CASE("upload and finish messages: oneof numbers and google.rpc.Status") {
  v1::BatonServiceUploadAssetRequest eof;
  eof.mutable_eof()->set_sha256_checksum(std::string(32, 'x'));
  std::string wire;
  REQUIRE(eof.SerializeToString(&wire));
  CHECK(wire.rfind(key(102) + "\x22" + key(1) + "\x20", 0) == 0);

  v1::BatonServiceUploadAssetRequest meta;
  meta.mutable_metadata()->set_task_id("t");
  REQUIRE(meta.SerializeToString(&wire));
  CHECK(wire == key(100) + "\x03" + key(2) + "\x01t");

  v1::BatonServiceFinishTaskRequest finish;
  finish.set_host_id("h");
  finish.mutable_status()->set_code(2);
  finish.mutable_status()->set_message("m");
  finish.mutable_error()->set_non_retryable(true);
  REQUIRE(finish.SerializeToString(&wire));
  CHECK(wire == key(1) + "\x01h" + key(3) + "\x05\x08\x02" + key(2) + "\x01m" + key(100) + "\x02\x08\x01");
}

TEST_CASE("Hello carries connector metadata with capabilities at 8") {
  v1::BatonServiceHelloRequest hello;
  hello.mutable_connector_metadata()->mutable_capabilities()->add_connector_capabilities(
      c1::connector::v2::CAPABILITY_SYNC);
  std::string wire;
  REQUIRE(hello.SerializeToString(&wire));
  // field 5 { field 8 { field 2 (packed) { 2 } } }
  CHECK(wire == key(5) + "\x05" + key(8) + "\x03" + key(2) + "\x01\x02");
}

TEST_CASE("BatonService: full name and method paths") {
  CHECK(std::string(v1::BatonService::service_full_name()) == "c1.connectorapi.baton.v1.BatonService");
  const auto* service = v1::Task::descriptor()->file()->FindServiceByName("BatonService");
  REQUIRE(service != nullptr);
  for (const char* m : {"Hello", "GetTask", "GetTasks", "Heartbeat", "FinishTask", "UploadAsset", "StartDebugging"}) {
    CHECK(service->FindMethodByName(m) != nullptr);
  }
  CHECK(service->FindMethodByName("UploadAsset")->client_streaming());
  CHECK_FALSE(service->FindMethodByName("UploadAsset")->server_streaming());
}
