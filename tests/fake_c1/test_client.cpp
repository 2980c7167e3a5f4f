#include "test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cctype>
#include <stdexcept>

#include "baton_percipio/fake_c1/credentials.hpp"
#include "baton_percipio/net/url.hpp"

namespace bp::fake_c1_test {

std::string b64url(std::string_view bytes) {
  static constexpr char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += a[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += a[(acc << (6 - bits)) & 63];
  return out;
}

std::string sign_jws(std::string_view seed, std::string_view header_json, std::string_view payload_json) {
  std::string input = b64url(header_json) + "." + b64url(payload_json);
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (key == nullptr) throw std::runtime_error("bad Ed25519 seed");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  std::size_t sig_len = sizeof sig;
  bool ok = EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestSign(ctx, sig, &sig_len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) throw std::runtime_error("Ed25519 signing failed");
  return input + "." + b64url(std::string_view(reinterpret_cast<const char*>(sig), sig_len));
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string sdk_assertion(const fake_c1::client_credentials& c, std::int64_t now) {
  unsigned char nonce[16];
  RAND_bytes(nonce, sizeof nonce);
  std::string hex;
  for (unsigned char b : nonce) {
    static constexpr char d[] = "0123456789abcdef";
    hex += d[b >> 4];
    hex += d[b & 15];
  }
  std::string aud = fake_c1::client_id_audience(c.client_id).value_or("");
  std::string header = R"({"alg":"EdDSA","nonce":")" + hex + R"("})";
  std::string payload = R"({"aud":")" + aud + R"(","exp":)" + std::to_string(now + 120) + R"(,"iat":)" +
                        std::to_string(now) + R"(,"iss":")" + c.client_id + R"(","nbf":)" +
                        std::to_string(now - 120) + R"(,"sub":")" + c.client_id + R"("})";
  return sign_jws(c.private_seed, header, payload);
}

using bp::net::url_encode;

std::string form_body(std::string_view client_id, std::string_view assertion, std::string_view grant_type,
                      std::string_view assertion_type) {
  return "client_assertion=" + url_encode(assertion) + "&client_assertion_type=" + url_encode(assertion_type) +
         "&client_id=" + url_encode(client_id) + "&grant_type=" + url_encode(grant_type);
}

tls_reply tls_exchange(std::uint16_t port, const std::string& ca_pem, const std::vector<std::string>& alpn,
                       std::string_view request, std::size_t stop_after) {
  tls_reply r;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  X509_free(ca);
  BIO_free(bio);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!alpn.empty()) {
    std::string wire;
    for (const auto& p : alpn) {
      wire += static_cast<char>(p.size());
      wire += p;
    }
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  SSL* ssl = nullptr;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    r.error = "connect failed";
  } else {
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    if (SSL_connect(ssl) != 1) {
      r.error = "handshake failed";
    } else {
      r.handshake_ok = true;
      const unsigned char* p = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(ssl, &p, &len);
      if (p != nullptr) r.alpn.assign(reinterpret_cast<const char*>(p), len);
      if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size())) {
        r.error = "write failed";
      } else {
        char buf[4096];
        while (r.bytes.size() < stop_after) {
          int n = SSL_read(ssl, buf, sizeof buf);
          if (n <= 0) break;
          r.bytes.append(buf, static_cast<std::size_t>(n));
        }
      }
    }
  }
  ERR_clear_error();
  if (ssl != nullptr) SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return r;
}

http_reply post_token(const fake_c1::server& srv, std::string_view body, std::string_view content_type) {
  std::string req = "POST /auth/v1/token HTTP/1.1\r\nHost: " + srv.address() +
                    "\r\nUser-Agent: baton-c1-credential-provider\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                    std::string(body);
  auto t = tls_exchange(srv.port(), srv.ca_pem(), {"h2", "http/1.1"}, req);
  http_reply r;
  r.alpn = t.alpn;
  if (t.bytes.rfind("HTTP/1.1 ", 0) == 0) r.status = std::stoi(t.bytes.substr(9, 3));
  auto end = t.bytes.find("\r\n\r\n");
  if (end != std::string::npos) r.body = t.bytes.substr(end + 4);
  return r;
}

std::string fetch_token(const fake_c1::server& srv) {
  auto r = post_token(srv, form_body(srv.credentials().client_id, sdk_assertion(srv.credentials(), unix_now())));
  if (r.status != 200) return {};
  auto p = r.body.find(R"("access_token":")");
  if (p == std::string::npos) return {};
  p += 16;
  return r.body.substr(p, r.body.find('"', p) - p);
}

std::unique_ptr<v1::BatonService::Stub> make_stub(const fake_c1::server& srv) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = srv.ca_pem();
  grpc::ChannelArguments args;
  args.SetUserAgentPrefix("fake-c1-test");
  auto channel = grpc::CreateCustomChannel(srv.address(), grpc::SslCredentials(ssl), args);
  return v1::BatonService::NewStub(channel);
}

void prepare(grpc::ClientContext& ctx, const std::string& token) {
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

v1::BatonServiceHelloRequest hello_request(std::string task_id) {
  v1::BatonServiceHelloRequest req;
  req.set_host_id("test-host");
  req.set_task_id(std::move(task_id));
  req.mutable_build_info()->set_lang_version("c++20");
  req.mutable_build_info()->set_package("baton-percipio");
  req.mutable_build_info()->set_package_version("0.1.0");
  req.mutable_os_info()->set_os("linux");
  auto* md = req.mutable_connector_metadata();
  md->set_display_name("Percipio Connector");
  md->mutable_capabilities()->add_connector_capabilities(c1::connector::v2::CAPABILITY_SYNC);
  return req;
}

}  // namespace bp::fake_c1_test
