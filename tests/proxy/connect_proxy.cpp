#include "proxy/connect_proxy.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bp::test {
namespace {

std::string basic(const std::string& user, const std::string& password) {
  const std::string raw = user + ":" + password;
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string header_value(std::string_view head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end - start);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = end;
  }
  return {};
}

int connect_numeric(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

}  // namespace

connect_proxy::connect_proxy(proxy_options o) : opts_(std::move(o)) {
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error("test proxy: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

connect_proxy::~connect_proxy() { stop(); }

std::string connect_proxy::url(std::string_view userinfo) const {
  std::string out = "http://";
  if (!userinfo.empty()) out.append(userinfo).append("@");
  return out + "127.0.0.1:" + std::to_string(port_);
}

std::vector<connect_record> connect_proxy::records() const {
  std::lock_guard lk(mu_);
  return records_;
}

void connect_proxy::stop() {
  if (stopping_.exchange(true)) return;
  (void)!::write(stop_pipe_[1], "x", 1);  // stays readable: wakes every poll, now and later
  acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lk(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

bool connect_proxy::wait_readable(int fd) const {
  pollfd p[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
  while (::poll(p, 2, -1) < 0) {
    if (errno != EINTR) return false;
  }
  return (p[1].revents & POLLIN) == 0;
}

void connect_proxy::accept_loop() {
  while (wait_readable(listen_fd_)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lk(mu_);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

// The status answered; upstream gets the destination "address port" for a tunnel.
int connect_proxy::answer(int fd, const connect_record& r, std::string& upstream) {
  using b = proxy_options::behaviour;
  if (!opts_.user.empty() && r.proxy_authorization != basic(opts_.user, opts_.password)) {
    write_all(fd, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
                  "Content-Length: 0\r\nConnection: close\r\n\r\n");
    return 407;
  }
  switch (opts_.mode) {
    case b::refuse:
      write_all(fd, "HTTP/1.1 " + std::to_string(opts_.refuse_status) +
                        " Refused By Policy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return opts_.refuse_status;
    case b::garbage: write_all(fd, "SSH-2.0-OpenSSH_9.2p1\r\n\r\n"); return 0;
    case b::stall: return 0;
    case b::tunnel: break;
  }
  const auto colon = r.target.rfind(':');
  if (colon == std::string::npos) {
    write_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return 400;
  }
  std::string host = r.target.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (auto it = opts_.hosts.find(host); it != opts_.hosts.end()) host = it->second;
  upstream = host + " " + r.target.substr(colon + 1);
  return 200;
}

void connect_proxy::serve(int fd) {
  std::string head;
  char buf[16384];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16384) {
    if (!wait_readable(fd)) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<std::size_t>(n));
  }
  const auto end = head.find("\r\n\r\n");
  if (end == std::string::npos || head.compare(0, 8, "CONNECT ") != 0) {
    ::close(fd);
    return;
  }
  connect_record r;
  const auto sp = head.find(' ', 8);
  r.target = head.substr(8, sp - 8);
  r.host_header = header_value(head.substr(0, end + 2), "Host");
  r.proxy_authorization = header_value(head.substr(0, end + 2), "Proxy-Authorization");
  r.user_agent = header_value(head.substr(0, end + 2), "User-Agent");
  std::string upstream;
  r.answered = answer(fd, r, upstream);
  {
    std::lock_guard lk(mu_);
    records_.push_back(r);
  }
  int up = -1;
  if (r.answered == 200) {
    const auto space = upstream.find(' ');
    const bool literal = upstream.find_first_not_of("0123456789.:abcdef") == space;
    up = literal ? connect_numeric(upstream.substr(0, space), upstream.substr(space + 1)) : -1;
    if (up < 0) {
      write_all(fd, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    } else {
      write_all(fd, "HTTP/1.1 200 Connection established\r\n\r\n");
      ++tunnels_;
      if (head.size() > end + 4) write_all(up, std::string_view(head).substr(end + 4));
    }
  }
  if (up >= 0) {
    // Relay until either side closes or the proxy stops.
    pollfd p[3] = {{fd, POLLIN, 0}, {up, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    bool open = true;
    while (open && ::poll(p, 3, -1) >= 0 && (p[2].revents & POLLIN) == 0) {
      for (int i = 0; i < 2 && open; ++i) {
        if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::recv(p[i].fd, buf, sizeof buf, 0);
        open = n > 0 && write_all(p[1 - i].fd, std::string_view(buf, static_cast<std::size_t>(n)));
      }
    }
    ::close(up);
  } else if (r.answered == 0 && opts_.mode == proxy_options::behaviour::stall) {
    while (wait_readable(fd) && ::recv(fd, buf, sizeof buf, 0) > 0) {
    }
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

}  // namespace bp::test
