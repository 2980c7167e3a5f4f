// The fake-c1 executable end to end: credentials and CA files for scripts, a token, a scripted
// hello task answered, and the exit after N tasks.
#include <doctest/doctest.h>
#include <unistd.h>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "baton_percipio/core/base64url.hpp"
#include "daemon/process.hpp"
#include "flat_json.hpp"
#include "test_client.hpp"

namespace t = bp::fake_c1_test;
namespace d = bp::fake_c1::detail;
namespace v1 = c1::connectorapi::baton::v1;

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string env_value(const std::string& file, const std::string& name) {
  std::istringstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "=", 0) == 0) return line.substr(name.size() + 1);
  }
  return {};
}

}  // namespace

TEST_CASE("fake-c1: writes credentials and CA, serves a client, exits after the scripted tasks") {
  auto dir = std::filesystem::temp_directory_path() / ("fake_c1_bin_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto creds_file = dir / "creds.env";
  const auto ca_file = dir / "ca.pem";
  const auto log_file = dir / "calls.jsonl";
  bp::daemon_test::child_process child(
      BP_FAKE_C1_BINARY,
      {"--tasks", "hello", "--exit-after-tasks", "1", "--credentials-out", creds_file.string(), "--ca-out",
       ca_file.string(), "--log", log_file.string(), "--next-poll-ms", "50"},
      {});
  REQUIRE(child.started());
  REQUIRE(child.wait_for([&] { return child.err().find("fake-c1: client id") != std::string::npos; },
                         std::chrono::seconds(20)));

  const std::string creds = slurp(creds_file);
  const std::string client_id = env_value(creds, "BATON_CLIENT_ID");
  const std::string secret = env_value(creds, "BATON_CLIENT_SECRET");
  CHECK(env_value(creds, "BATON_C1_API_HOST").empty());
  CHECK((std::filesystem::status(creds_file).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  const std::string host = client_id.substr(client_id.find('@') + 1, client_id.find('/') - client_id.find('@') - 1);
  REQUIRE(host.rfind("127.0.0.1:", 0) == 0);
  const auto port = static_cast<std::uint16_t>(std::stoi(host.substr(10)));
  const std::string ca = slurp(ca_file);

  // Sign like a client would: from the secret alone.
  REQUIRE(secret.rfind("secret-token:conductorone.com:v1:", 0) == 0);
  auto jwk = d::parse_flat_object(bp::base64url_decode(secret.substr(secret.rfind(':') + 1)).value()).value();
  bp::fake_c1::client_credentials c;
  c.client_id = client_id;
  c.private_seed = bp::base64url_decode(*d::find_string(jwk, "d")).value();
  const std::string body = t::form_body(client_id, t::sdk_assertion(c, t::unix_now()));
  auto reply = t::tls_exchange(port, ca, {"h2", "http/1.1"},
                               "POST /auth/v1/token HTTP/1.1\r\nHost: " + host +
                                   "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  REQUIRE(reply.bytes.rfind("HTTP/1.1 200", 0) == 0);
  auto json = d::parse_flat_object(reply.bytes.substr(reply.bytes.find("\r\n\r\n") + 4)).value();
  const std::string token = *d::find_string(json, "access_token");

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca;
  auto stub = v1::BatonService::NewStub(grpc::CreateChannel(host, grpc::SslCredentials(ssl)));
  v1::BatonServiceGetTaskResponse task;
  {
    grpc::ClientContext ctx;
    t::prepare(ctx, token);
    v1::BatonServiceGetTaskRequest req;
    req.set_host_id("test-host");
    REQUIRE(stub->GetTask(&ctx, req, &task).ok());
  }
  REQUIRE(task.task().has_hello());
  {
    grpc::ClientContext ctx;
    t::prepare(ctx, token);
    v1::BatonServiceHelloResponse resp;
    REQUIRE(stub->Hello(&ctx, t::hello_request(task.task().id()), &resp).ok());
  }
  CHECK(child.wait_exit(std::chrono::seconds(20)) == 0);
  const std::string log = slurp(log_file);
  CHECK(log.find(R"("method":"Token")") != std::string::npos);
  CHECK(log.find(R"("method":"GetTask")") != std::string::npos);
  CHECK(log.find(R"("task_type":"hello")") != std::string::npos);
  CHECK(log.find(R"("method":"Hello")") != std::string::npos);
  CHECK(log.find(token) == std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("fake-c1: bad arguments exit 2") {
  bp::daemon_test::child_process child(BP_FAKE_C1_BINARY, {"--tasks", "bogus"}, {});
  REQUIRE(child.started());
  CHECK(child.wait_exit(std::chrono::seconds(20)) == 2);
  CHECK(child.err().find("unknown task type 'bogus'") != std::string::npos);
}
