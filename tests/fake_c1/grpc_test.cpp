// BatonService through the TLS front with a generated stub: authentication, the task script,
// heartbeats, FinishTask and the fault hooks.
#include <doctest/doctest.h>

#include <google/protobuf/util/time_util.h>

#include <atomic>

#include "baton_percipio/fake_c1/server.hpp"
#include "baton_percipio/fake_c1/tasks.hpp"
#include "test_client.hpp"

namespace fc = bp::fake_c1;
namespace t = bp::fake_c1_test;
namespace v1 = c1::connectorapi::baton::v1;
using google::protobuf::util::TimeUtil;

namespace {

grpc::Status get_task(v1::BatonService::Stub& stub, const std::string& token, v1::BatonServiceGetTaskResponse& resp) {
  grpc::ClientContext ctx;
  t::prepare(ctx, token);
  v1::BatonServiceGetTaskRequest req;
  req.set_host_id("test-host");
  return stub.GetTask(&ctx, req, &resp);
}

grpc::Status finish(v1::BatonService::Stub& stub, const std::string& token, const std::string& task_id, bool success,
                    bool non_retryable = false) {
  grpc::ClientContext ctx;
  t::prepare(ctx, token);
  v1::BatonServiceFinishTaskRequest req;
  req.set_host_id("test-host");
  req.set_task_id(task_id);
  if (success) {
    req.mutable_success();
  } else {
    req.mutable_status()->set_code(2);
    req.mutable_status()->set_message("unsupported task type");
    req.mutable_error()->set_non_retryable(non_retryable);
  }
  v1::BatonServiceFinishTaskResponse resp;
  return stub.FinishTask(&ctx, req, &resp);
}

grpc::Status heartbeat(v1::BatonService::Stub& stub, const std::string& token, const std::string& task_id,
                       v1::BatonServiceHeartbeatResponse& resp) {
  grpc::ClientContext ctx;
  t::prepare(ctx, token);
  v1::BatonServiceHeartbeatRequest req;
  req.set_host_id("test-host");
  req.set_task_id(task_id);
  return stub.Heartbeat(&ctx, req, &resp);
}

}  // namespace

TEST_CASE("calls without a valid bearer token are UNAUTHENTICATED") {
  std::atomic<int> offset_s{0};
  fc::options o;
  o.clock = [&] { return std::chrono::system_clock::now() + std::chrono::seconds(offset_s.load()); };
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  v1::BatonServiceGetTaskResponse resp;
  CHECK(get_task(*stub, "", resp).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(get_task(*stub, "made-up", resp).error_code() == grpc::StatusCode::UNAUTHENTICATED);

  const std::string token = t::fetch_token(srv);  // through the token endpoint, 3600 s
  REQUIRE_FALSE(token.empty());
  CHECK(get_task(*stub, token, resp).ok());
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "bearer " + token);  // any casing of the type
    v1::BatonServiceGetTaskRequest req;
    req.set_host_id("h");
    CHECK(stub->GetTask(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Basic " + token);
    v1::BatonServiceGetTaskRequest req;
    req.set_host_id("h");
    CHECK(stub->GetTask(&ctx, req, &resp).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  offset_s = 3600;  // the token's lifetime is over
  CHECK(get_task(*stub, token, resp).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  const std::string fresh = srv.issue_token(std::chrono::seconds(60));
  CHECK(get_task(*stub, fresh, resp).ok());

  auto polls = srv.polls();
  REQUIRE(polls.size() == 7);
  CHECK(polls[0].code == static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  CHECK(polls[2].code == 0);
}

TEST_CASE("GetTask hands out the script in order and always sets next_poll") {
  fc::options o;
  o.next_poll = std::chrono::milliseconds(250);
  o.next_heartbeat = std::chrono::milliseconds(1500);
  o.tasks = fc::parse_task_list("sync_full:skip_grants,hello,grant,event_feed,unset");
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));

  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    v1::BatonServiceGetTaskResponse resp;
    REQUIRE(get_task(*stub, token, resp).ok());
    REQUIRE(resp.has_next_poll());
    CHECK(TimeUtil::DurationToMilliseconds(resp.next_poll()) == 250);
    CHECK(TimeUtil::DurationToMilliseconds(resp.next_heartbeat()) == 1500);
    if (i < 5) {
      REQUIRE(resp.has_task());
      CHECK(resp.task().id() == o.tasks[static_cast<std::size_t>(i)].id());
      seen.push_back(fc::task_type_name(resp.task()));
    } else {
      CHECK_FALSE(resp.has_task());  // nothing left
    }
  }
  CHECK(seen == std::vector<std::string>{"sync_full", "hello", "grant", "event_feed", "unset"});
  auto polls = srv.polls();
  REQUIRE(polls.size() == 6);
  CHECK(polls[0].task_type == "sync_full");
  CHECK(polls[0].task_id == o.tasks[0].id());
  CHECK(polls[5].task_id.empty());

  // add_task appends at run time
  auto id = srv.add_task(*fc::make_task("revoke"));
  v1::BatonServiceGetTaskResponse resp;
  REQUIRE(get_task(*stub, token, resp).ok());
  CHECK(resp.task().id() == id);
  CHECK(resp.task().has_revoke());
}

TEST_CASE("GetTask UNAVAILABLE for the first N calls, then the script") {
  fc::options o;
  o.fault.get_task_unavailable = 2;
  o.tasks = fc::parse_task_list("sync_full");
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  v1::BatonServiceGetTaskResponse resp;
  CHECK(get_task(*stub, token, resp).error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(get_task(*stub, token, resp).error_code() == grpc::StatusCode::UNAVAILABLE);
  REQUIRE(get_task(*stub, token, resp).ok());
  CHECK(resp.task().has_sync_full());
}

TEST_CASE("Hello: required fields, records, and answering a hello task") {
  fc::options o;
  o.tasks = fc::parse_task_list("hello");
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  auto call = [&](const v1::BatonServiceHelloRequest& req) {
    grpc::ClientContext ctx;
    t::prepare(ctx, token);
    v1::BatonServiceHelloResponse resp;
    return stub->Hello(&ctx, req, &resp);
  };
  CHECK(call(t::hello_request()).ok());
  auto no_host = t::hello_request();
  no_host.clear_host_id();
  CHECK(call(no_host).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  auto no_md = t::hello_request();
  no_md.clear_connector_metadata();
  CHECK(call(no_md).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(srv.counts().tasks_done == 0);

  v1::BatonServiceGetTaskResponse resp;
  REQUIRE(get_task(*stub, token, resp).ok());
  REQUIRE(resp.task().has_hello());
  CHECK(call(t::hello_request(resp.task().id())).ok());
  CHECK(srv.wait_until_finished(1, std::chrono::seconds(5)));

  auto hellos = srv.hellos();
  REQUIRE(hellos.size() == 4);
  CHECK(hellos[0].request.connector_metadata().display_name() == "Percipio Connector");
  CHECK(hellos[0].request.connector_metadata().capabilities().connector_capabilities(0) ==
        c1::connector::v2::CAPABILITY_SYNC);
  CHECK(hellos[0].request.build_info().package() == "baton-percipio");
  CHECK(hellos[1].code == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  CHECK(hellos[3].request.task_id() == resp.task().id());
}

TEST_CASE("Heartbeat: next_heartbeat always, cancelled from the k-th call on for that task") {
  fc::options o;
  o.next_heartbeat = std::chrono::milliseconds(1000);
  o.fault.cancel_heartbeat = 2;
  o.tasks = fc::parse_task_list("sync_full");
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  v1::BatonServiceGetTaskResponse task;
  REQUIRE(get_task(*stub, token, task).ok());
  const std::string id = task.task().id();

  std::vector<bool> cancelled;
  for (int i = 0; i < 3; ++i) {
    v1::BatonServiceHeartbeatResponse resp;
    REQUIRE(heartbeat(*stub, token, id, resp).ok());
    CHECK(TimeUtil::DurationToMilliseconds(resp.next_heartbeat()) == 1000);
    cancelled.push_back(resp.cancelled());
  }
  CHECK(cancelled == std::vector<bool>{false, true, true});
  // A heartbeat after FinishTask is tolerated.
  CHECK(finish(*stub, token, id, false).ok());
  v1::BatonServiceHeartbeatResponse late;
  CHECK(heartbeat(*stub, token, id, late).ok());
  auto hb = srv.heartbeats();
  REQUIRE(hb.size() == 4);
  CHECK(hb[1].cancelled);
  CHECK(hb[0].task_id == id);
  CHECK(hb[1].at >= hb[0].at);
}

TEST_CASE("FinishTask: oneof required, outcome recorded, tasks counted, optional re-queue") {
  fc::options o;
  o.tasks = fc::parse_task_list("sync_full,event_feed,grant");
  o.requeue_retryable = true;
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    v1::BatonServiceGetTaskResponse resp;
    REQUIRE(get_task(*stub, token, resp).ok());
    ids.push_back(resp.task().id());
  }
  {
    grpc::ClientContext ctx;
    t::prepare(ctx, token);
    v1::BatonServiceFinishTaskRequest req;
    req.set_host_id("test-host");
    req.set_task_id(ids[0]);
    v1::BatonServiceFinishTaskResponse resp;
    CHECK(stub->FinishTask(&ctx, req, &resp).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  CHECK(finish(*stub, token, ids[0], true).ok());
  CHECK(finish(*stub, token, ids[1], false, false).ok());  // retryable: back in the queue
  CHECK(finish(*stub, token, ids[2], false, true).ok());
  CHECK(finish(*stub, token, "unknownunknownunknownunknow", true).ok());
  CHECK(srv.wait_until_finished(3, std::chrono::seconds(5)));
  CHECK_FALSE(srv.wait_until_finished(4, std::chrono::milliseconds(0)));

  auto f = srv.finishes();
  REQUIRE(f.size() == 5);
  CHECK(f[0].code == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  CHECK(f[1].success);
  CHECK_FALSE(f[1].has_status);
  CHECK(f[2].error);
  CHECK(f[2].status_code == 2);
  CHECK(f[2].status_message == "unsupported task type");
  CHECK_FALSE(f[2].non_retryable);
  CHECK(f[3].non_retryable);
  CHECK(f[3].known_task);
  CHECK_FALSE(f[4].known_task);

  v1::BatonServiceGetTaskResponse again;
  REQUIRE(get_task(*stub, token, again).ok());
  CHECK(again.task().id() == ids[1]);
  CHECK(again.task().has_event_feed());
}

TEST_CASE("GetTasks is UNIMPLEMENTED, StartDebugging answers") {
  fc::server srv;
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  grpc::ClientContext ctx;
  t::prepare(ctx, token);
  v1::BatonServiceGetTasksRequest req;
  v1::BatonServiceGetTasksResponse resp;
  CHECK(stub->GetTasks(&ctx, req, &resp).error_code() == grpc::StatusCode::UNIMPLEMENTED);
  grpc::ClientContext ctx2;
  t::prepare(ctx2, token);
  v1::StartDebuggingResponse dresp;
  CHECK(stub->StartDebugging(&ctx2, v1::StartDebuggingRequest(), &dresp).ok());
}
