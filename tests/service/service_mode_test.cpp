// Service mode end to end in one process: bp::service::run_service against the fake ConductorOne
// and the Percipio fixture server, with millisecond intervals.
#include <doctest/doctest.h>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>

#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/cli/documents.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fixture/expected_counts.hpp"
#include "baton_percipio/service/hello_request.hpp"
#include "baton_percipio/service/task_loop.hpp"
#include "c1/connector/v2/annotation_resource.pb.h"
#include "service/service_mode_env.hpp"

namespace svc = bp::service;
namespace v1 = c1::connectorapi::baton::v1;
namespace v2 = c1::connector::v2;
using namespace bp::service::test;

namespace {

// The uploaded bytes as a file the c1z reader can open.
bp::c1z::reader_stats read_upload(const service_env& env, const fc::upload_record& up) {
  const auto path = env.scratch() / ("upload-" + up.task_id + ".c1z");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(up.data.data(), static_cast<std::streamsize>(up.data.size()));
  }
  bp::c1z::reader r(path);
  return r.stats();
}

std::uint64_t resources_of(const bp::c1z::reader_stats& s, const std::string& type) {
  for (const auto& [t, n] : s.resources)
    if (t == type) return n;
  return 0;
}

// What `baton-percipio capabilities` prints, as the message.
v2::ConnectorCapabilities printed_capabilities(const std::string& json) {
  (void)v2::SkipEntitlementsAndGrants::descriptor();  // the annotation type, for the JSON parser
  google::protobuf::Any any;
  auto st = google::protobuf::util::JsonStringToMessage(json, &any);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  v2::ConnectorCapabilities caps;
  REQUIRE(any.UnpackTo(&caps));
  return caps;
}

// A sync that blocks until it is stopped (or 20 s pass), leaving files behind as a real one would.
struct blocking_sync {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool ended = false;
  std::atomic<int> calls{0};

  svc::run_sync_fn fn() {
    return [this](const bp::sync::options& o, const bp::sync::run_control& ctl, bp::sync::summary*) -> bp::sync::summary {
      ++calls;
      std::ofstream(o.destination) << "partial";
      std::ofstream(o.temp_dir / "work.tmp") << "partial";
      {
        std::lock_guard lock(mu);
        started = true;
      }
      cv.notify_all();
      const auto until = std::chrono::steady_clock::now() + 20s;
      while (!ctl.stop->stop_requested() && std::chrono::steady_clock::now() < until) {
        std::unique_lock lock(mu);
        cv.wait_for(lock, 5ms);  // the stop_source has no wait: poll it like the sync does
      }
      {
        std::lock_guard lock(mu);
        ended = true;
      }
      cv.notify_all();
      throw bp::sync::sync_error(bp::sync::failure_kind::cancelled, "sync cancelled");
    };
  }
  bool wait_started(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return started; });
  }
  bool wait_ended(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return ended; });
  }
};

}  // namespace

TEST_CASE("service mode: sync_full is synced, uploaded and finished; Hello describes the connector") {
  service_env env(fast_fake("sync_full"));
  env.start();
  REQUIRE(env.wait_finished(1));
  CHECK(env.stop().exit == svc::service_exit::stopped);

  // The startup Hello: host id, build and OS info, and the capabilities `capabilities` prints.
  auto hellos = env.c1().hellos();
  REQUIRE_FALSE(hellos.empty());
  const auto& hello = hellos.front().request;
  CHECK(hello.task_id().empty());
  CHECK(hello.host_id() == "test-host");
  CHECK(hello.build_info().package() == "baton-percipio");
  CHECK_FALSE(hello.os_info().kernel_arch().empty());
  CHECK(hello.connector_metadata().display_name() == "Percipio Connector");
  CHECK(google::protobuf::util::MessageDifferencer::Equals(hello.connector_metadata().capabilities(),
                                                           printed_capabilities(bp::cli::capabilities_json())));

  // One heartbeat before the sync, one stored upload, FinishTask success with nothing else.
  auto hbs = env.c1().heartbeats();
  REQUIRE_FALSE(hbs.empty());
  auto uploads = env.c1().uploads();
  REQUIRE(uploads.size() == 1);
  CHECK(uploads[0].code == 0);
  CHECK(uploads[0].sha_ok);
  CHECK(uploads[0].magic == "C1ZF");
  CHECK(hbs.front().at <= uploads[0].at);
  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].success);
  CHECK_FALSE(fins[0].has_status);
  CHECK(fins[0].task_id == uploads[0].task_id);

  // The uploaded file holds what a correct sync of the tenant holds.
  const auto want = fx::compute_expected(env.tenant());
  const auto got = read_upload(env, uploads[0]);
  CHECK(got.resource_types == 2);
  CHECK(resources_of(got, "user") == want.users);
  CHECK(resources_of(got, "course") == want.courses);
  CHECK(got.entitlements == want.entitlements);
  CHECK(got.grants == want.grants());
  CHECK(env.temp_dir_empty());

  // Metrics: ready after Hello, the task counted, the upload and its bytes.
  auto snap = env.metrics.snap();
  CHECK(snap.ready());
  CHECK(snap.service.tasks[{"sync_full", "success"}] == 1);
  CHECK(snap.service.uploads == 1);
  CHECK(snap.service.upload_bytes == uploads[0].bytes);
  CHECK(snap.syncs_succeeded == 1);
  CHECK(env.metrics.render().find("baton_percipio_service_tasks_total{type=\"sync_full\",outcome=\"success\"} 1") !=
        std::string::npos);
}

TEST_CASE("service mode: hello, provisioning and unsupported tasks get their one answer each") {
  service_env env(fast_fake("hello,grant,revoke,event_feed,unset,none,issue_credential"));
  env.start();
  // hello (via Hello) + grant + revoke + event_feed + unset + issue_credential; none is "no work".
  REQUIRE(env.wait_finished(6));
  env.stop();

  auto hellos = env.c1().hellos();
  REQUIRE(hellos.size() == 2);
  CHECK(hellos[0].request.task_id().empty());
  CHECK(hellos[1].request.task_id().size() == 27);

  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 5);  // never one for the hello task
  auto polls = env.c1().polls();
  auto type_of = [&](const std::string& id) {
    for (const auto& p : polls)
      if (p.task_id == id) return p.task_type;
    return std::string();
  };
  for (const auto& f : fins) {
    CHECK(f.known_task);
    CHECK(f.error);
    CHECK(f.has_status);
    const auto type = type_of(f.task_id);
    CAPTURE(type);
    if (type == "grant" || type == "revoke" || type == "issue_credential") {
      CHECK(f.status_code == 9);
      CHECK(f.status_message == "provisioning is not enabled");
      CHECK(f.non_retryable);
    } else {
      CHECK((type == "event_feed" || type == "unset"));
      CHECK(f.status_code == 2);
      CHECK(f.status_message == "unsupported task type");
      CHECK_FALSE(f.non_retryable);
    }
  }
  auto snap = env.metrics.snap();
  CHECK(snap.service.tasks[{"hello", "answered"}] == 1);
  CHECK(snap.service.tasks[{"grant", "error"}] == 1);
  CHECK(snap.service.tasks[{"unset", "error"}] == 1);
  CHECK(env.c1().heartbeats().empty());
}

TEST_CASE("service mode: GetTask UNAVAILABLE backs off n squared and recovers") {
  auto o = fast_fake("hello");
  o.fault.get_task_unavailable = 3;
  service_env env(o);
  env.start();
  REQUIRE(env.wait_finished(1));
  env.stop();
  auto polls = env.c1().polls();
  REQUIRE(polls.size() >= 4);
  CHECK(polls[0].code == 14);
  CHECK(polls[2].code == 14);
  CHECK(polls[3].code == 0);
  // 10 ms units: 10, 40, 90 ms after the 1st, 2nd and 3rd failure.
  CHECK(polls[1].at - polls[0].at >= 10ms);
  CHECK(polls[2].at - polls[1].at >= 40ms);
  CHECK(polls[3].at - polls[2].at >= 90ms);
  CHECK(env.metrics.snap().ready());
}

TEST_CASE("service mode: an aborted upload is retried from byte 0") {
  auto o = fast_fake("sync_full");
  o.fault.abort_uploads = 1;
  service_env env(o);
  env.start();
  REQUIRE(env.wait_finished(1));
  env.stop();
  auto uploads = env.c1().uploads();
  REQUIRE(uploads.size() == 2);
  CHECK(uploads[0].code == 14);
  CHECK(uploads[1].code == 0);
  CHECK(uploads[1].sha_ok);
  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].success);
  CHECK(env.temp_dir_empty());
}

TEST_CASE("service mode: cancelled on a later heartbeat stops the sync, FinishTask CANCELLED, no file left") {
  auto o = fast_fake("sync_full");
  o.fault.cancel_heartbeat = 3;  // the first goes out before the sync starts
  service_env env(o);
  blocking_sync sync;
  env.settings.sync.run_sync = sync.fn();
  env.start();
  REQUIRE(env.wait_finished(1));
  env.stop();
  CHECK(sync.calls == 1);
  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].error);
  CHECK(fins[0].status_code == 1);
  CHECK(fins[0].status_message == "task cancelled by ConductorOne");
  CHECK_FALSE(fins[0].non_retryable);
  CHECK(env.c1().uploads().empty());
  CHECK(env.temp_dir_empty());
  // No heartbeat after the cancelling one.
  auto hbs = env.c1().heartbeats();
  CHECK(hbs.size() == 3);
  CHECK(hbs.back().cancelled);
  CHECK(env.metrics.snap().service.tasks[{"sync_full", "cancelled"}] == 1);
}

TEST_CASE("service mode: cancelled on the first heartbeat: no sync, one FinishTask CANCELLED") {
  auto o = fast_fake("sync_full");
  o.fault.cancel_heartbeat = 1;
  service_env env(o);
  blocking_sync sync;
  env.settings.sync.run_sync = sync.fn();
  env.start();
  REQUIRE(env.wait_finished(1));
  env.stop();
  CHECK(sync.calls == 0);
  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].status_code == 1);
  CHECK(env.c1().heartbeats().size() == 1);
  CHECK(env.temp_dir_empty());
}

TEST_CASE("service mode: a stop request mid-sync cancels it and reports CANCELLED") {
  service_env env(fast_fake("sync_full"));
  blocking_sync sync;
  env.settings.sync.run_sync = sync.fn();
  env.settings.timing.heartbeat_floor = 1s;  // no heartbeat in between: the stop alone ends the sync
  env.start();
  REQUIRE(sync.wait_started(10s));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(env.stop().exit == svc::service_exit::stopped);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].status_code == 1);
  CHECK(fins[0].status_message == "the connector is shutting down");
  CHECK(env.temp_dir_empty());
}

TEST_CASE("service mode: consecutive heartbeat failures abort the task and stop its sync") {
  service_env env(fast_fake("sync_full"));
  blocking_sync sync;
  env.settings.sync.run_sync = sync.fn();
  env.settings.timing.heartbeat_failure_limit = 3;
  env.start();
  REQUIRE(sync.wait_started(10s));
  env.c1().stop();  // from now on every call fails
  REQUIRE(sync.wait_ended(10s));
  CHECK(env.stop().exit == svc::service_exit::stopped);
  auto snap = env.metrics.snap();
  CHECK(snap.service.heartbeat_failures >= 3);
  CHECK(snap.service.tasks[{"sync_full", "error"}] == 1);
  CHECK(env.temp_dir_empty());
}

TEST_CASE("service mode: a Percipio failure is reported with its status, the file removed") {
  service_env env(fast_fake("sync_full"));
  env.settings.sync.base.api.token = "wrong-token";
  env.start();
  REQUIRE(env.wait_finished(1));
  env.stop();
  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].error);
  CHECK(fins[0].status_code == 7);
  CHECK(fins[0].status_message.find("Percipio rejected the API token") != std::string::npos);
  CHECK(fins[0].status_message.find("wrong-token") == std::string::npos);
  CHECK(env.c1().uploads().empty());
  CHECK(env.temp_dir_empty());
  CHECK(env.metrics.snap().syncs_failed == 1);
}

TEST_CASE("service mode: sync failures map to gRPC codes") {
  using k = bp::sync::failure_kind;
  CHECK(svc::answer_for_sync_failure(k::auth, "401").status.code == 7);
  CHECK(svc::answer_for_sync_failure(k::upstream, "503").status.code == 14);
  CHECK(svc::answer_for_sync_failure(k::output, "write x: No space left on device").status.code == 8);
  CHECK(svc::answer_for_sync_failure(k::output, "rename failed").status.code == 13);
  CHECK(svc::answer_for_sync_failure(k::cancelled, "stop").status.code == 1);
  CHECK(svc::answer_for_sync_failure(k::configuration, "bad").non_retryable);
  CHECK(svc::answer_for_sync_failure(k::internal, "bug").status.code == 13);
}

TEST_CASE("service mode: skip_grants and a resource type list narrow the sync; the report is not requested") {
  service_env env(fast_fake("sync_full:skip_grants,sync_full:types=user"));
  env.start();
  REQUIRE(env.wait_finished(2));
  env.stop();
  CHECK(env.percipio().log().count(fx::endpoint::report_request) == 0);
  auto uploads = env.c1().uploads();
  REQUIRE(uploads.size() == 2);
  const auto want = fx::compute_expected(env.tenant());
  auto first = read_upload(env, uploads[0]);
  CHECK(first.grants == 0);
  CHECK(first.entitlements == want.entitlements);
  CHECK(resources_of(first, "user") == want.users);
  auto second = read_upload(env, uploads[1]);
  CHECK(resources_of(second, "user") == want.users);
  CHECK(resources_of(second, "course") == 0);
  CHECK(second.entitlements == 0);
}

TEST_CASE("service mode: a rejected token request ends the startup as an auth failure") {
  auto o = fast_fake();
  o.fault.token_reject = true;
  service_env env(o);
  env.start();
  auto r = env.wait_result(10s);
  REQUIRE(r);
  CHECK(r->exit == svc::service_exit::auth_failed);
  CHECK(r->message.find("refused the client credentials") != std::string::npos);
  CHECK(r->message.find(env.settings.client_secret) == std::string::npos);
  CHECK_FALSE(env.metrics.snap().ready());
  CHECK(env.c1().polls().empty());
}

TEST_CASE("service mode: a transient token endpoint failure is retried at startup") {
  auto o = fast_fake("hello");
  o.fault.token_status = 503;
  service_env env(o);
  env.start();
  REQUIRE(env.c1().wait_for([](const fc::call_counts& c) { return c.token_requests >= 2; }, 10s));
  CHECK_FALSE(env.metrics.snap().ready());
  auto f = fc::faults{};
  env.c1().set_faults(f);
  REQUIRE(env.wait_finished(1));
  CHECK(env.metrics.snap().ready());
  CHECK(env.stop().exit == svc::service_exit::stopped);
}

TEST_CASE("service mode: malformed credentials are configuration errors that do not echo the secret") {
  service_env env;
  env.settings.client_secret = "secret-token:conductorone.com:v2:c29tZXRoaW5n";
  env.start();
  auto r = env.wait_result(10s);
  REQUIRE(r);
  CHECK(r->exit == svc::service_exit::config_error);
  CHECK(r->message.find("--client-secret / BATON_CLIENT_SECRET") != std::string::npos);
  CHECK(r->message.find("c29tZXRoaW5n") == std::string::npos);
}

TEST_CASE("service mode: no secret or token reaches a log line or the metrics") {
  struct capture : bp::log::sink {
    std::mutex mu;
    std::string text;
    void write(std::string_view line) override {
      std::lock_guard lock(mu);
      text.append(line);
    }
  } sink;
  bp::log::set_sink(&sink);
  bp::log::configure(bp::log::level::debug, bp::log::format::json);
  bp::log::set_redaction(false);  // prove nothing needs redacting
  {
    service_env env(fast_fake("sync_full,grant"));
    env.start();
    const bool done = env.wait_finished(2);
    env.stop();
    bp::log::set_redaction(true);
    bp::log::set_sink(nullptr);
    bp::log::configure(bp::log::level::info, bp::log::format::json);
    REQUIRE(done);
    const auto& secret = env.settings.client_secret;
    const auto jwk = secret.substr(secret.rfind(':') + 1);
    for (const std::string& text : {sink.text, env.metrics.render()}) {
      CHECK(text.find(jwk) == std::string::npos);
      CHECK(text.find(fx::demo_token) == std::string::npos);
      CHECK(text.find("Bearer ") == std::string::npos);
      CHECK(text.find("eyJ") == std::string::npos);  // no JWS or JWT
    }
    // Lines of a task carry its id.
    auto fins = env.c1().finishes();
    REQUIRE(fins.size() == 2);
    CHECK(sink.text.find("\"task_id\":\"" + fins[0].task_id + "\"") != std::string::npos);
    CHECK(sink.text.find("\"task_id\":\"" + fins[1].task_id + "\"") != std::string::npos);
  }
}

TEST_CASE("service timing: clamps and backoffs") {
  svc::service_timing t;
  google::protobuf::Duration d;
  CHECK(svc::poll_delay(t, nullptr) == 100ms);
  d.set_seconds(3600);
  CHECK(svc::poll_delay(t, &d) == std::chrono::minutes(5));
  d.set_seconds(2);
  CHECK(svc::poll_delay(t, &d) == 2s);
  CHECK(svc::poll_error_delay(t, 1) == 1s);
  CHECK(svc::poll_error_delay(t, 3) == 9s);
  CHECK(svc::poll_error_delay(t, 8) == 60s);
  CHECK(svc::hello_backoff(t, 1) == 1s);
  CHECK(svc::hello_backoff(t, 4) == 8s);
  CHECK(svc::hello_backoff(t, 40) == std::chrono::minutes(5));
  CHECK(svc::heartbeat_interval(t, nullptr) == 30s);
  d.set_seconds(0);
  d.set_nanos(200000000);
  CHECK(svc::heartbeat_interval(t, &d) == 1s);
  d.set_seconds(7);
  d.set_nanos(0);
  CHECK(svc::heartbeat_interval(t, &d) == 7s);
  d.set_seconds(100000);
  CHECK(svc::heartbeat_interval(t, &d) == std::chrono::minutes(5));
}

TEST_CASE("service mode: task type names follow the protocol") {
  v1::Task t;
  CHECK(svc::task_type_name(t) == "unset");
  t.mutable_sync_full();
  CHECK(svc::task_type_name(t) == "sync_full");
  t.mutable_grant();
  CHECK(svc::task_type_name(t) == "grant");
  CHECK(svc::is_provisioning_task(t));
  t.mutable_event_feed();
  CHECK_FALSE(svc::is_provisioning_task(t));
}

TEST_CASE("service mode: a stop while the token request hangs ends the startup within seconds") {
  auto o = fast_fake();
  o.fault.token_delay = 4s;  // twice the stop bound checked below (the fake answers it late on shutdown)
  service_env env(o);
  env.start();
  // The connector has connected and is waiting for the token.
  REQUIRE(env.c1().wait_for([](const fc::call_counts& c) { return c.connections >= 1; }, 10s));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = env.stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);  // not waiting for the token answer
  CHECK(r.exit == svc::service_exit::stopped);
}
