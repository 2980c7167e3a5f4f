#include "scripted_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <stdexcept>

#include "baton_percipio/core/ascii.hpp"
#include "baton_percipio/net/detail/response_parser.hpp"

namespace bp::hardening {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("scripted_server: " + what); }

bool iequal_prefix(std::string_view line, std::string_view name) {
  return line.size() >= name.size() && bp::ascii::iequals(line.substr(0, name.size()), name);
}

std::size_t content_length(std::string_view head) {
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    auto line = head.substr(pos, end - pos);
    if (iequal_prefix(line, "content-length:")) return std::stoul(std::string(line.substr(15)));
    pos = end + 2;
  }
  return 0;
}

// Drops Connection (and optionally Accept-Encoding) header lines and adds "Connection: close".
std::string rewrite_head(std::string_view head, bool drop_accept_encoding) {
  std::string out;
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    auto line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) continue;
    if (iequal_prefix(line, "connection:") || (drop_accept_encoding && iequal_prefix(line, "accept-encoding:")))
      continue;
    out.append(line).append("\r\n");
    if (first) out.append("Connection: close\r\n");
    first = false;
  }
  out.append("\r\n");
  return out;
}

}  // namespace

struct scripted_server::tls_state {
  SSL_CTX* ctx = nullptr;
  ~tls_state() { SSL_CTX_free(ctx); }
};

namespace {

class conn_impl final : public connection {
 public:
  conn_impl(int fd, SSL* ssl, int stop_fd, const std::atomic<bool>& stopping)
      : fd_(fd), ssl_(ssl), stop_fd_(stop_fd), stopping_(stopping) {}

  bool stopping() const override { return stopping_.load(); }

  bool write(std::string_view bytes) override {
    while (!bytes.empty()) {
      if (stopping()) return false;
      ssize_t n;
      if (ssl_) {
        n = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20)));
        if (n <= 0) return false;
      } else {
        n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads up to n bytes; 0 on close, error or stop.
  std::size_t read_some(char* buf, std::size_t n) {
    if (ssl_ && SSL_pending(ssl_) > 0) {
      int r = SSL_read(ssl_, buf, static_cast<int>(n));
      return r > 0 ? static_cast<std::size_t>(r) : 0;
    }
    for (;;) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return 0;
      }
      if (p[1].revents != 0 || stopping()) return 0;
      if (ssl_) {
        int r = SSL_read(ssl_, buf, static_cast<int>(n));
        if (r > 0) return static_cast<std::size_t>(r);
        const int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) continue;
        return 0;
      }
      ssize_t r = ::recv(fd_, buf, n, 0);
      if (r < 0 && errno == EINTR) continue;
      return r > 0 ? static_cast<std::size_t>(r) : 0;
    }
  }

  void hang() override {
    char buf[4096];
    while (read_some(buf, sizeof buf) > 0) {
    }
  }

  // Reads one request (head + Content-Length body). False when the peer went away first.
  bool read_request(http_request& req) {
    std::string data;
    char buf[8192];
    std::size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      const std::size_t n = read_some(buf, sizeof buf);
      if (n == 0) return false;
      data.append(buf, n);
    }
    req.head = data.substr(0, head_end + 4);
    const std::size_t len = content_length(req.head);
    req.body = data.substr(head_end + 4);
    while (req.body.size() < len) {
      const std::size_t n = read_some(buf, sizeof buf);
      if (n == 0) return false;
      req.body.append(buf, n);
    }
    const auto sp1 = req.head.find(' ');
    const auto sp2 = req.head.find(' ', sp1 + 1);
    req.method = req.head.substr(0, sp1);
    req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
    return true;
  }

 private:
  int fd_;
  SSL* ssl_;
  int stop_fd_;
  const std::atomic<bool>& stopping_;
};

}  // namespace

scripted_server::scripted_server(handler h, const test_cert* tls) : handler_(std::move(h)) {
  if (tls) {
    tls_ = std::make_unique<tls_state>();
    tls_->ctx = SSL_CTX_new(TLS_server_method());
    BIO* cb = BIO_new_mem_buf(tls->cert_pem.data(), static_cast<int>(tls->cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(tls->key_pem.data(), static_cast<int>(tls->key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    if (!cert || !key || SSL_CTX_use_certificate(tls_->ctx, cert) != 1 || SSL_CTX_use_PrivateKey(tls_->ctx, key) != 1)
      fail("cannot load the test certificate");
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  if (::pipe(stop_pipe_) != 0) fail("pipe");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("bind");
  if (::listen(listen_fd_, 64) != 0) fail("listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

scripted_server::~scripted_server() {
  stop();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::string scripted_server::base_url(std::string_view host) const {
  return std::string(tls_ ? "https://" : "http://") + std::string(host) + ":" + std::to_string(port_);
}

void scripted_server::stop() {
  if (stopping_.exchange(true)) return;
  (void)!::write(stop_pipe_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  std::unique_lock lock(mu_);
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // unblocks writes to a client that stopped reading
  idle_.wait(lock, [&] { return active_ == 0; });
}

void scripted_server::accept_loop() {
  std::size_t conn_index = 0;
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0 || stopping_) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    ++active_;
    std::thread([this, fd, i = conn_index++] { serve(fd, i); }).detach();
  }
}

void scripted_server::serve(int fd, std::size_t) {
  SSL* ssl = nullptr;
  bool ok = true;
  if (tls_) {
    ssl = SSL_new(tls_->ctx);
    SSL_set_fd(ssl, fd);
    ok = SSL_accept(ssl) == 1;  // fails when the client refuses our certificate
  }
  if (ok) {
    conn_impl c(fd, ssl, stop_pipe_[0], stopping_);
    http_request req;
    if (c.read_request(req)) {
      const std::size_t index = requests_.fetch_add(1);
      handler_(index, req, c);
    }
    if (ssl) SSL_shutdown(ssl);
  }
  if (ssl) SSL_free(ssl);
  std::lock_guard lock(mu_);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  --active_;
  idle_.notify_all();  // under the lock: stop() cannot return before this thread is done with *this
}

std::string response(int status, std::string_view body, std::string_view extra_headers) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\nConnection: close\r\n";
  r.append(extra_headers);
  r.append("\r\n");
  r.append(body);
  return r;
}

std::size_t body_offset(std::string_view raw) {
  const auto p = raw.find("\r\n\r\n");
  return p == std::string_view::npos ? std::string_view::npos : p + 4;
}

std::string forward(std::uint16_t port, const http_request& req) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string raw;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string out = rewrite_head(req.head, true) + req.body;
    std::string_view rest = out;
    bool sent = true;
    while (!rest.empty()) {
      const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        sent = false;
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    net::detail::response_parser p;
    p.start({1 << 20, 0}, req.method == "HEAD", {}, false);
    char buf[65536];
    while (sent && !p.message_complete()) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (p.finish_eof()) raw.clear();
        break;
      }
      raw.append(buf, static_cast<std::size_t>(n));
      if (p.feed(std::string_view(buf, static_cast<std::size_t>(n)))) {
        raw.clear();
        break;
      }
    }
  }
  ::close(fd);
  const auto off = body_offset(raw);
  if (off == std::string::npos) return {};
  return rewrite_head(std::string_view(raw).substr(0, off), false) + raw.substr(off);
}

test_cert test_cert::make(const std::string& dns_name, const std::string& ip, int valid_days) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  if (valid_days >= 0) {
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(valid_days) * 86400);
  } else {
    X509_gmtime_adj(X509_getm_notBefore(x), static_cast<long>(valid_days - 30) * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(valid_days) * 86400);
  }
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(dns_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  const std::string san = "DNS:" + dns_name + (ip.empty() ? "" : ",IP:" + ip);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")},
                            std::pair{NID_key_usage, std::string("critical,digitalSignature,keyCertSign")}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) fail("certificate extension");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key, EVP_sha256()) == 0) fail("sign certificate");
  test_cert out;
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  out.cert_pem.assign(p, static_cast<std::size_t>(n));
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(b, &p);
  out.key_pem.assign(p, static_cast<std::size_t>(n));
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

std::string test_cert::write_cert(const std::string& dir) const {
  const std::string path = dir + "/ca.pem";
  std::ofstream(path) << cert_pem;
  return path;
}

}  // namespace bp::hardening
