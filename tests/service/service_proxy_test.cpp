// Service mode through an authenticating CONNECT proxy: the token request (our HTTP client) and
// the gRPC channel both tunnel to ConductorOne under a name only the proxy can resolve.
#include <doctest/doctest.h>

#include <algorithm>

#include "baton_percipio/net/proxy_config.hpp"
#include "proxy/connect_proxy.hpp"
#include "service_mode_env.hpp"

using namespace bp::service::test;

TEST_CASE("service mode: token request and gRPC go through the proxy with Basic credentials") {
  service_env env(fast_fake("sync_full"));
  const std::string address = env.c1().address();
  const std::string port = address.substr(address.rfind(':') + 1);
  bp::test::proxy_options po;
  po.user = "svc-user";
  po.password = "Svc-Proxy-Pass-77";
  po.hosts = {{"c1.test", "127.0.0.1"}};
  bp::test::connect_proxy proxy(po);

  // c1.test exists only in the proxy's table: a direct connection could not even resolve it.
  env.settings.api_host_override = "c1.test:" + port;
  auto cfg = bp::net::make_proxy_config(proxy.url("svc-user:Svc-Proxy-Pass-77"), "--proxy", {});
  REQUIRE(cfg.error.empty());
  env.settings.proxy = cfg.config;
  env.start();
  REQUIRE(env.wait_finished(1));
  CHECK(env.stop().exit == bp::service::service_exit::stopped);

  auto fins = env.c1().finishes();
  REQUIRE(fins.size() == 1);
  CHECK(fins[0].success);
  REQUIRE(env.c1().uploads().size() == 1);

  const auto records = proxy.records();
  // At least one tunnel for the token request (HTTP/1.1 from our client) and one for gRPC.
  REQUIRE(records.size() >= 2);
  for (const auto& r : records) {
    CHECK(r.target == "c1.test:" + port);
    CHECK(r.answered == 200);
    CHECK(r.proxy_authorization == "Basic c3ZjLXVzZXI6U3ZjLVByb3h5LVBhc3MtNzc=");  // svc-user:Svc-Proxy-Pass-77
  }
  const bool from_grpc = std::any_of(records.begin(), records.end(),
                                     [](const auto& r) { return r.user_agent.find("baton-percipio") == std::string::npos; });
  const bool from_client = std::any_of(records.begin(), records.end(),
                                       [](const auto& r) { return r.user_agent.find("baton-percipio") != std::string::npos; });
  CHECK(from_grpc);
  CHECK(from_client);
}

TEST_CASE("service mode: a loopback ConductorOne is reached directly even with a proxy configured") {
  service_env env(fast_fake("sync_full"));
  bp::test::proxy_options po;
  po.mode = bp::test::proxy_options::behaviour::refuse;
  bp::test::connect_proxy proxy(po);
  auto cfg = bp::net::make_proxy_config(proxy.url(), "--proxy", {});
  env.settings.proxy = cfg.config;  // api_host_override stays 127.0.0.1:port
  env.start();
  REQUIRE(env.wait_finished(1));
  env.stop();
  CHECK(env.c1().finishes().at(0).success);
  CHECK(proxy.records().empty());
}
