#include "test_server.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace bp::net::test {
namespace {

constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
using stream_t = asio::ssl::stream<asio::ip::tcp::socket>;

std::string reason_phrase(int code) {
  switch (code) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

reply status(int code, std::string body, std::vector<std::string> extra_headers) {
  std::string r = "HTTP/1.1 " + std::to_string(code) + " " + reason_phrase(code) + "\r\n";
  for (auto& h : extra_headers) r += h + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return reply{{std::move(r)}, false, false};
}

reply ok(std::string body, std::vector<std::string> extra_headers) {
  return status(200, std::move(body), std::move(extra_headers));
}

reply raw(std::string bytes, bool close_after) { return reply{{std::move(bytes)}, close_after, false}; }

server::server(asio::io_context& io, handler h, asio::ssl::context* tls)
    : io_(io), handler_(std::move(h)), tls_(tls), acceptor_(io) {
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

server::~server() { stop(); }

std::string server::url(std::string_view target, std::string_view host) const {
  return std::string(tls_ ? "https://" : "http://") + std::string(host) + ":" + std::to_string(port_) +
         std::string(target);
}

void server::stop() {
  stopped_ = true;
  std::error_code ec;
  acceptor_.close(ec);
  for (auto& w : sockets_) {
    if (auto s = w.lock()) {
      s->next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      s->next_layer().close(ec);
    }
  }
  sockets_.clear();
}

asio::awaitable<void> server::accept_loop() {
  while (!stopped_) {
    auto [ec, sock] = co_await acceptor_.async_accept(tuple_awaitable);
    if (ec) co_return;
    auto s = tls_ ? std::make_shared<stream_t>(std::move(sock), *tls_)
                  : std::make_shared<stream_t>(std::move(sock), plain_ctx_);
    sockets_.push_back(s);
    asio::co_spawn(io_, session(s, connections_++), asio::detached);
  }
}

asio::awaitable<void> server::session(std::shared_ptr<stream_t> s, std::size_t conn) {
  bool tls = tls_ != nullptr;
  auto read_some = [&](std::string& into) -> asio::awaitable<bool> {
    char buf[16384];
    auto [ec, n] = tls ? co_await s->async_read_some(asio::buffer(buf), tuple_awaitable)
                       : co_await s->next_layer().async_read_some(asio::buffer(buf), tuple_awaitable);
    into.append(buf, n);
    co_return !ec;
  };
  if (tls) {
    auto [ec] = co_await s->async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
    if (ec) co_return;
  }
  std::string in;
  if (silent) {
    while (co_await read_some(in)) in.clear();
    co_return;
  }
  for (std::size_t idx = 0;; ++idx) {
    std::size_t end;
    while ((end = in.find("\r\n\r\n")) == std::string::npos) {
      if (!co_await read_some(in)) co_return;
    }
    received r;
    r.head = in.substr(0, end + 4);
    in.erase(0, end + 4);
    std::size_t line_end = r.head.find("\r\n");
    std::string line = r.head.substr(0, line_end);
    auto sp1 = line.find(' ');
    auto sp2 = line.find(' ', sp1 + 1);
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end + 2;
    std::size_t content_length = 0;
    while (pos < r.head.size() - 2) {
      auto le = r.head.find("\r\n", pos);
      std::string h = r.head.substr(pos, le - pos);
      auto colon = h.find(':');
      header hd{h.substr(0, colon), h.substr(colon + 1)};
      while (!hd.value.empty() && hd.value.front() == ' ') hd.value.erase(0, 1);
      if (iequals(hd.name, "Content-Length")) content_length = std::stoul(hd.value);
      r.headers.push_back(std::move(hd));
      pos = le + 2;
    }
    while (in.size() < content_length) {
      if (!co_await read_some(in)) co_return;
    }
    r.body = in.substr(0, content_length);
    in.erase(0, content_length);
    r.connection = conn;
    r.index_on_connection = idx;
    r.index = requests_++;
    log_.push_back(r);
    reply rep = handler_(r);
    for (auto& piece : rep.pieces) {
      auto [ec, n] = tls ? co_await asio::async_write(*s, asio::buffer(piece), tuple_awaitable)
                         : co_await asio::async_write(s->next_layer(), asio::buffer(piece), tuple_awaitable);
      if (ec) co_return;
    }
    if (rep.hang) {
      while (co_await read_some(in)) in.clear();
      co_return;
    }
    if (rep.close_after) {
      std::error_code ec;
      if (tls) {
        // No close_notify: a TCP close, as a misbehaving server would do.
      }
      s->next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      s->next_layer().close(ec);
      co_return;
    }
  }
}

void run(asio::io_context& io, std::function<asio::awaitable<void>()> body, std::function<void()> on_done) {
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    error = e;
    done = true;
    if (on_done) on_done();
  });
  io.restart();
  io.run_for(std::chrono::seconds(15));
  REQUIRE_MESSAGE(done, "test coroutine did not finish");
  if (error) std::rethrow_exception(error);
}

test_cert::test_cert(const std::string& host) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) throw std::runtime_error("EVP_EC_gen failed");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  std::string san = "DNS:" + host;
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san.c_str()},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_key_usage, "critical,digitalSignature,keyCertSign"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  auto to_pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
  };
  cert_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
  key_pem = to_pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(x);
  EVP_PKEY_free(key);
  static std::atomic<int> counter{0};
  cert_file = (std::filesystem::temp_directory_path() /
               ("bp_net_test_ca_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".pem"))
                  .string();
  std::ofstream(cert_file) << cert_pem;
}

test_cert::~test_cert() {
  std::error_code ec;
  std::filesystem::remove(cert_file, ec);
}

std::unique_ptr<asio::ssl::context> server_tls_context(const test_cert& cert) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->use_certificate_chain(asio::buffer(cert.cert_pem));
  ctx->use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
  return ctx;
}

}  // namespace bp::net::test
