#include "baton_percipio/service/baton_client.hpp"

#include <doctest/doctest.h>
#include <google/protobuf/util/message_differencer.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/fake_c1/server.hpp"
#include "baton_percipio/fake_c1/tasks.hpp"
#include "baton_percipio/service/hello_request.hpp"

using namespace bp::service;
namespace v1 = c1::connectorapi::baton::v1;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  static std::atomic<int> n{0};
  auto dir = fs::temp_directory_path() / ("bp_baton_client_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  fs::create_directories(dir);
  return dir;
}

// A fake ConductorOne with a realistic tenant host in the client id; the client reaches it through
// the API host override, as with BATON_C1_API_HOST.
struct env {
  fs::path dir = temp_dir();
  bp::fake_c1::server fake;
  credentials creds;
  endpoint api;
  std::vector<std::chrono::milliseconds> waits;
  std::mutex waits_mu;
  std::unique_ptr<token_source> tokens;
  std::unique_ptr<baton_client> client;

  explicit env(bp::fake_c1::options o = {}, bool trust_grpc = true)
      : fake(with_defaults(std::move(o), dir)),
        creds(load_credentials(fake.credentials().client_id, fake.credentials().client_secret).value()),
        api(api_endpoint(creds.id, fake.address()).value()) {
    token_options to;
    to.api = api;
    to.ca_file = fake.ca_file().string();
    to.timeout = std::chrono::seconds(20);
    baton_client_options bo;
    bo.target = api;
    bo.client_name = creds.id.name;
    bo.ca_file = trust_grpc ? fake.ca_file().string() : std::string();
    bo.call_timeout = std::chrono::seconds(20);
    bo.upload_timeout = std::chrono::seconds(60);
    bo.wait = [this](std::chrono::milliseconds w) {
      std::lock_guard lk(waits_mu);
      waits.push_back(w);
      return true;
    };
    tokens = std::make_unique<token_source>(std::move(creds), to);
    client = std::make_unique<baton_client>(*tokens, bo);
  }
  ~env() {
    client.reset();
    tokens.reset();
    fake.stop();
    std::error_code ec;
    fs::remove_all(dir, ec);
    bp::log::clear_secrets();
  }

  static bp::fake_c1::options with_defaults(bp::fake_c1::options o, const fs::path& dir) {
    o.client_host = "tenant.conductor.one";
    o.ca_out = dir / "ca.pem";
    return o;
  }

  fs::path write_file(const std::string& name, const std::string& bytes) {
    auto p = dir / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xFF);
  return s;
}

v1::Task task(std::string_view spec) { return bp::fake_c1::make_task(spec).value(); }

}  // namespace

TEST_CASE("baton client: Hello carries what make_hello_request built, with one token for several calls") {
  env e;
  auto req = make_hello_request("host-1");
  auto r = e.client->hello(req);
  REQUIRE_MESSAGE(r.ok(), r.status.message);
  auto hellos = e.fake.hellos();
  REQUIRE(hellos.size() == 1);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(hellos[0].request, req));
  CHECK(e.client->get_task("host-1").ok());
  CHECK(e.client->get_task("host-1").ok());
  CHECK(e.fake.counts().tokens_issued == 1);
  auto token_requests = e.fake.token_requests();
  REQUIRE(token_requests.size() == 1);
  CHECK(token_requests[0].status == 200);
  CHECK(token_requests[0].client_id == e.fake.credentials().client_id);
}

TEST_CASE("baton client: GetTask hands out scripted tasks with next_poll, then none") {
  bp::fake_c1::options o;
  o.next_poll = std::chrono::milliseconds(250);
  env e(o);
  auto id = e.fake.add_task(task("sync_full:skip_grants"));
  auto r = e.client->get_task("host-1");
  REQUIRE_MESSAGE(r.ok(), r.status.message);
  REQUIRE(r.reply.has_task());
  CHECK(r.reply.task().id() == id);
  CHECK(r.reply.task().has_sync_full());
  CHECK(r.reply.task().sync_full().skip_grants());
  CHECK(r.reply.next_poll().nanos() == 250000000);
  auto empty = e.client->get_task("host-1");
  REQUIRE(empty.ok());
  CHECK((!empty.reply.has_task() || empty.reply.task().has_none()));
  auto polls = e.fake.polls();
  REQUIRE(polls.size() == 2);
  CHECK(polls[0].host_id == "host-1");
}

TEST_CASE("baton client: Heartbeat and FinishTask") {
  bp::fake_c1::options o;
  o.fault.cancel_heartbeat = 2;
  env e(o);
  auto id = e.fake.add_task(task("sync_full"));
  REQUIRE(e.client->get_task("h").ok());
  auto hb1 = e.client->heartbeat("h", id);
  REQUIRE_MESSAGE(hb1.ok(), hb1.status.message);
  CHECK_FALSE(hb1.reply.cancelled());
  CHECK(hb1.reply.has_next_heartbeat());
  auto hb2 = e.client->heartbeat("h", id);
  REQUIRE(hb2.ok());
  CHECK(hb2.reply.cancelled());
  auto hbs = e.fake.heartbeats();
  REQUIRE(hbs.size() == 2);
  CHECK(hbs[0].task_id == id);
  CHECK(hbs[0].host_id == "h");

  auto fin = e.client->finish_error("h", id, rpc_status{rpc_code::cancelled, "task cancelled"}, false);
  REQUIRE_MESSAGE(fin.ok(), fin.status.message);
  auto id2 = e.fake.add_task(task("sync_full"));
  REQUIRE(e.client->get_task("h").ok());
  REQUIRE(e.client->finish_success("h", id2).ok());
  auto fins = e.fake.finishes();
  REQUIRE(fins.size() == 2);
  CHECK(fins[0].task_id == id);
  CHECK(fins[0].error);
  CHECK(fins[0].has_status);
  CHECK(fins[0].status_code == 1);
  CHECK(fins[0].status_message == "task cancelled");
  CHECK_FALSE(fins[0].non_retryable);
  CHECK(fins[1].task_id == id2);
  CHECK(fins[1].success);
  CHECK_FALSE(fins[1].has_status);
}

TEST_CASE("baton client: uploads in 512 KiB data messages, remainder last, eof with the SHA-256") {
  env e;
  auto id = e.fake.add_task(task("sync_full"));
  REQUIRE(e.client->get_task("h").ok());
  struct size_case {
    std::size_t size;
    std::size_t messages;
  };
  int stored = 0;
  for (auto [size, messages] : {size_case{0, 0}, size_case{1, 1}, size_case{524288, 1}, size_case{524289, 2},
                                size_case{2 * 524288 + 5, 3}}) {
    CAPTURE(size);
    std::string bytes = pattern(size);
    auto file = e.write_file("asset.c1z", bytes);
    auto r = e.client->upload_asset(file, id, "h");
    REQUIRE_MESSAGE(r.status.ok(), r.status.message);
    CHECK(r.attempts == 1);
    CHECK(r.bytes == size);
    CHECK(r.sha256.size() == 32);
    auto ups = e.fake.uploads();
    REQUIRE(ups.size() == static_cast<std::size_t>(stored + 1));
    const auto& u = ups.back();
    CHECK(u.code == 0);
    CHECK(u.sequence == stored);
    CHECK(u.task_id == id);
    CHECK(u.host_id == "h");
    CHECK(u.data_messages == messages);
    CHECK(u.bytes == size);
    CHECK(u.sha_ok);
    CHECK(u.data == bytes);
    ++stored;
  }
  CHECK(e.waits.empty());
}

TEST_CASE("baton client: a broken upload stream is retried from byte 0, waiting 0 s then 1 s") {
  const std::string bytes = pattern(3 * 524288 + 17);
  SUBCASE("second attempt succeeds") {
    bp::fake_c1::options o;
    o.fault.abort_uploads = 1;
    env e(o);
    auto id = e.fake.add_task(task("sync_full"));
    REQUIRE(e.client->get_task("h").ok());
    auto r = e.client->upload_asset(e.write_file("a.c1z", bytes), id, "h");
    REQUIRE_MESSAGE(r.status.ok(), r.status.message);
    CHECK(r.attempts == 2);
    CHECK(e.waits == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(0)});
    auto ups = e.fake.uploads();
    REQUIRE(ups.size() == 2);
    CHECK(ups[0].code != 0);
    CHECK(ups[1].code == 0);
    CHECK(ups[1].data == bytes);
    CHECK(ups[1].data_messages == 4);
  }
  SUBCASE("third attempt succeeds") {
    bp::fake_c1::options o;
    o.fault.abort_uploads = 2;
    env e(o);
    auto id = e.fake.add_task(task("sync_full"));
    REQUIRE(e.client->get_task("h").ok());
    auto r = e.client->upload_asset(e.write_file("a.c1z", bytes), id, "h");
    REQUIRE_MESSAGE(r.status.ok(), r.status.message);
    CHECK(r.attempts == 3);
    CHECK(e.waits == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(0), std::chrono::seconds(1)});
    CHECK(e.fake.uploads().back().data == bytes);
  }
  SUBCASE("three failures: the last status, after 3 attempts") {
    bp::fake_c1::options o;
    o.fault.abort_uploads = 3;
    env e(o);
    auto id = e.fake.add_task(task("sync_full"));
    REQUIRE(e.client->get_task("h").ok());
    auto r = e.client->upload_asset(e.write_file("a.c1z", bytes), id, "h");
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.code == rpc_code::unavailable);
    CHECK(r.attempts == 3);
    CHECK(r.status.message.find("after 3 attempts") != std::string::npos);
    CHECK(e.fake.counts().uploads_stored == 0);
  }
}

TEST_CASE("baton client: upload cancellation and unreadable files") {
  env e;
  auto id = e.fake.add_task(task("sync_full"));
  REQUIRE(e.client->get_task("h").ok());
  SUBCASE("cancelled mid-stream") {
    int checks = 0;
    auto r = e.client->upload_asset(e.write_file("a.c1z", pattern(4 * 524288)), id, "h", [&] { return ++checks > 2; });
    CHECK(r.status.code == rpc_code::cancelled);
    CHECK(r.attempts == 1);
    CHECK(e.fake.counts().uploads_stored == 0);
  }
  SUBCASE("missing file") {
    auto r = e.client->upload_asset(e.dir / "nope.c1z", id, "h");
    CHECK(r.status.code == rpc_code::unknown);
    CHECK(r.status.message.find("nope.c1z") != std::string::npos);
    CHECK(r.attempts == 0);
    CHECK(e.fake.counts().upload_streams == 0);
  }
}

TEST_CASE("baton client: token failures come back as statuses without reaching the service") {
  SUBCASE("401: UNAUTHENTICATED") {
    bp::fake_c1::options o;
    o.fault.token_reject = true;
    env e(o);
    auto r = e.client->get_task("h");
    CHECK(r.status.code == rpc_code::unauthenticated);
    CHECK(r.status.message.find("refused the client credentials") != std::string::npos);
    CHECK(e.fake.counts().polls == 0);
  }
  SUBCASE("500: UNAVAILABLE") {
    bp::fake_c1::options o;
    o.fault.token_status = 500;
    env e(o);
    auto r = e.client->hello(make_hello_request("h"));
    CHECK(r.status.code == rpc_code::unavailable);
    CHECK(r.status.message.find("HTTP 500") != std::string::npos);
    CHECK(e.fake.counts().hellos == 0);
  }
}

TEST_CASE("baton client: a token the service refuses is dropped and the next call gets a new one") {
  // The fake's clock runs ahead of the client's: its tokens expire while the client still holds one.
  auto offset = std::make_shared<std::atomic<int>>(0);
  bp::fake_c1::options o;
  o.token_lifetime = std::chrono::seconds(60);
  o.clock = [offset] { return std::chrono::system_clock::now() + std::chrono::seconds(offset->load()); };
  env e(o);
  REQUIRE(e.client->get_task("h").ok());
  offset->store(61);
  auto refused = e.client->get_task("h");
  CHECK(refused.status.code == rpc_code::unauthenticated);
  auto again = e.client->get_task("h");
  REQUIRE_MESSAGE(again.ok(), again.status.message);
  CHECK(e.fake.counts().tokens_issued == 2);
}

TEST_CASE("baton client: the channel trusts only its roots; a missing CA file is a setup error") {
  env e({}, /*trust_grpc=*/false);
  auto r = e.client->get_task("h");  // the token endpoint is trusted, the gRPC channel is not
  CHECK(r.status.code == rpc_code::unavailable);
  CHECK(e.fake.counts().polls == 0);

  baton_client_options bad;
  bad.target = e.api;
  bad.ca_file = (e.dir / "missing.pem").string();
  CHECK_THROWS_AS(baton_client(*e.tokens, bad), std::runtime_error);

  baton_client_options only_ca;  // no system bundle: the CA file alone is enough
  only_ca.target = e.api;
  only_ca.ca_file = e.fake.ca_file().string();
  only_ca.system_roots_file = (e.dir / "no-system-bundle.pem").string();
  baton_client c(*e.tokens, only_ca);
  CHECK(c.get_task("h").ok());
}

TEST_CASE("rpc code names") {
  CHECK(rpc_code_name(0) == "OK");
  CHECK(rpc_code_name(14) == "UNAVAILABLE");
  CHECK(rpc_code_name(16) == "UNAUTHENTICATED");
  CHECK(rpc_code_name(99) == "CODE_OTHER");
}
