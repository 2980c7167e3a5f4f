#pragma once
// Client-side helpers for the fake's tests, written independently of the fake: Ed25519 JWS signing
// with OpenSSL, a blocking TLS client with a chosen ALPN list, and a gRPC stub trusting the fake's CA.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/client_context.h>

#include "baton_percipio/fake_c1/server.hpp"
#include "c1/connectorapi/baton/v1/baton.grpc.pb.h"

namespace bp::fake_c1_test {

namespace v1 = c1::connectorapi::baton::v1;

std::string b64url(std::string_view bytes);
// Compact JWS over the given JSON texts, signed with the Ed25519 seed.
std::string sign_jws(std::string_view seed, std::string_view header_json, std::string_view payload_json);
// The assertion the Go SDK sends: header {"alg":"EdDSA","nonce":<32 hex>}, claims iss=sub=id,
// aud=host without port, iat=now, nbf=now-120, exp=now+120.
std::string sdk_assertion(const fake_c1::client_credentials& c, std::int64_t now);
std::int64_t unix_now();

std::string form_body(std::string_view client_id, std::string_view assertion,
                      std::string_view grant_type = "client_credentials",
                      std::string_view assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");

struct tls_reply {
  bool handshake_ok = false;
  std::string alpn;   // negotiated, "" for none
  std::string bytes;  // everything read until EOF, `stop_after` bytes, or the 5 s read timeout
  std::string error;
};
// Connects to 127.0.0.1:port trusting `ca_pem` (hostname 127.0.0.1 verified), offers `alpn` (empty:
// no ALPN extension), sends `request`, reads the answer.
tls_reply tls_exchange(std::uint16_t port, const std::string& ca_pem, const std::vector<std::string>& alpn,
                       std::string_view request, std::size_t stop_after = SIZE_MAX);

struct http_reply {
  int status = 0;
  std::string body;
  std::string alpn;
};
// POST /auth/v1/token over TLS with ALPN "h2,http/1.1" as Go's HTTP client offers it.
http_reply post_token(const fake_c1::server& srv, std::string_view body,
                      std::string_view content_type = "application/x-www-form-urlencoded");
// A full token request with the server's own credentials; returns the access token ("" on failure).
std::string fetch_token(const fake_c1::server& srv);

std::unique_ptr<v1::BatonService::Stub> make_stub(const fake_c1::server& srv);
// Bearer metadata and a 10 s deadline.
void prepare(grpc::ClientContext& ctx, const std::string& token);

// A minimal valid Hello request.
v1::BatonServiceHelloRequest hello_request(std::string task_id = "");

}  // namespace bp::fake_c1_test
