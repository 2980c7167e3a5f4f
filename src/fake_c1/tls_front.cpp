#include "tls_front.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <openssl/ssl.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string_view>

#include "baton_percipio/net/task_group.hpp"

namespace bp::fake_c1::detail {
namespace {

using asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Handshake plus routing must finish within this; piped connections then live as long as both ends.
constexpr std::chrono::seconds setup_timeout{10};
constexpr std::string_view h2_preface = "PRI * HTTP/2.0";

// ALPN wire format, in server preference order.
constexpr unsigned char server_protocols[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1', 2, 'h', '2'};

int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* /*arg*/) {
  unsigned char* selected = nullptr;
  // SSL_select_next_proto walks the first list in order: server preference.
  if (SSL_select_next_proto(&selected, outlen, server_protocols, sizeof(server_protocols), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: continue without ALPN, route by bytes
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

struct connection {
  connection(tcp::socket s, asio::ssl::context& ctx)
      : tls(std::move(s), ctx), backend(tls.get_executor()), timer(tls.get_executor()) {}
  asio::ssl::stream<tcp::socket> tls;
  tcp::socket backend;
  asio::steady_timer timer;  // bounds the setup phase
  bool closed = false;

  void close() {
    if (closed) return;
    closed = true;
    std::error_code ec;
    tls.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    tls.lowest_layer().close(ec);
    backend.shutdown(tcp::socket::shutdown_both, ec);
    backend.close(ec);
    timer.cancel();
  }
};

}  // namespace

struct tls_front::state {
  state(asio::any_io_executor e, tcp::endpoint token, tcp::endpoint grpc, route_callback cb)
      : ex(std::move(e)), ssl(asio::ssl::context::tls_server), acceptor(ex), token_backend(token),
        grpc_backend(grpc), on_route(std::move(cb)) {}
  asio::any_io_executor ex;
  asio::ssl::context ssl;
  tcp::acceptor acceptor;
  tcp::endpoint token_backend;
  tcp::endpoint grpc_backend;
  route_callback on_route;
  std::uint16_t port = 0;
  std::atomic<bool> stopped{false};
  std::set<std::shared_ptr<connection>> conns;  // touched only on the executor's thread

  void do_stop() {
    std::error_code ec;
    acceptor.close(ec);
    for (const auto& c : conns) c->close();
    conns.clear();
  }
};

namespace {

using state_ptr = std::shared_ptr<tls_front::state>;

asio::awaitable<void> setup_watchdog(std::shared_ptr<connection> c) {
  c->timer.expires_after(setup_timeout);
  auto [ec] = co_await c->timer.async_wait(use_tuple);
  if (!ec) c->close();  // cancelled (ec set) once setup finished
}

// Plaintext from the client to the backend. Either direction ending closes both sockets, which
// ends the other direction too.
asio::awaitable<void> client_to_backend(std::shared_ptr<connection> c) {
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [ec, n] = co_await c->tls.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) break;
    auto [wec, m] = co_await asio::async_write(c->backend, asio::buffer(buf.data(), n), use_tuple);
    if (wec) break;
  }
  c->close();
}

asio::awaitable<void> backend_to_client(std::shared_ptr<connection> c) {
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [ec, n] = co_await c->backend.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) break;
    auto [wec, m] = co_await asio::async_write(c->tls, asio::buffer(buf.data(), n), use_tuple);
    if (wec) break;
  }
  c->close();
}

// `parts` holds the connection's other coroutines (its setup watchdog, the backend direction);
// run_connection awaits them.
asio::awaitable<void> serve(state_ptr st, std::shared_ptr<connection> c, bp::net::task_group& parts) {
  parts.spawn(setup_watchdog(c));
  std::string alpn;
  std::string backend;
  std::string head;  // bytes read while routing by content; forwarded first
  auto report = [&] {
    if (st->on_route) st->on_route(alpn, backend);
  };

  auto [hec] = co_await c->tls.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (hec) {
    report();
    c->close();
    co_return;
  }
  const unsigned char* proto = nullptr;
  unsigned proto_len = 0;
  SSL_get0_alpn_selected(c->tls.native_handle(), &proto, &proto_len);
  if (proto != nullptr) alpn.assign(reinterpret_cast<const char*>(proto), proto_len);

  if (alpn == "http/1.1") {
    backend = "token";
  } else if (alpn == "h2") {
    backend = "grpc";
  } else {
    // No ALPN: read until the bytes either are the HTTP/2 preface or cannot become it.
    std::array<char, 1024> buf;
    while (backend.empty()) {
      auto [ec, n] = co_await c->tls.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) break;
      head.append(buf.data(), n);
      std::size_t k = std::min(head.size(), h2_preface.size());
      if (std::string_view(head).substr(0, k) != h2_preface.substr(0, k)) {
        backend = "token";
      } else if (k == h2_preface.size()) {
        backend = "grpc";
      }
    }
  }
  if (backend.empty() || c->closed) {
    backend.clear();
    report();
    c->close();
    co_return;
  }
  auto [cec] = co_await c->backend.async_connect(backend == "grpc" ? st->grpc_backend : st->token_backend, use_tuple);
  std::error_code ignored;
  c->backend.set_option(tcp::no_delay(true), ignored);
  if (!cec && !head.empty()) {
    auto [wec, m] = co_await asio::async_write(c->backend, asio::buffer(head), use_tuple);
    cec = wec;
  }
  if (cec || c->closed) {
    backend.clear();
    report();
    c->close();
    co_return;
  }
  c->timer.cancel();
  report();
  parts.spawn(backend_to_client(c));
  co_await client_to_backend(c);
}

// One connection and everything it started: when it returns, all of them have ended.
asio::awaitable<void> run_connection(state_ptr st, std::shared_ptr<connection> c) {
  bp::net::task_group parts(st->ex);
  try {
    co_await serve(st, c, parts);
  } catch (const std::exception&) {
  }
  c->close();  // ends the backend direction and the watchdog
  parts.cancel();
  co_await parts.join();
  st->conns.erase(c);
}

// Owns the connections: once the acceptor closes (stop()), they are cancelled and awaited.
asio::awaitable<void> accept_loop(state_ptr st) {
  bp::net::task_group connections(st->ex);
  for (;;) {
    auto [ec, sock] = co_await st->acceptor.async_accept(use_tuple);
    if (st->stopped || !st->acceptor.is_open()) break;
    if (ec) {
      asio::steady_timer t(st->ex, std::chrono::milliseconds(20));  // e.g. out of descriptors
      co_await t.async_wait(use_tuple);
      continue;
    }
    std::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    auto c = std::make_shared<connection>(std::move(sock), st->ssl);
    st->conns.insert(c);
    connections.spawn(run_connection(st, c));
  }
  connections.cancel();
  co_await connections.join();
}

}  // namespace

tls_front::tls_front(asio::any_io_executor ex, const tls_material& tls, const tcp::endpoint& listen,
                     tcp::endpoint token_backend, tcp::endpoint grpc_backend, route_callback on_route)
    : st_(std::make_shared<state>(std::move(ex), token_backend, grpc_backend, std::move(on_route))) {
  auto& ssl = st_->ssl;
  ssl.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  ssl.use_certificate_chain(asio::buffer(tls.cert_pem));
  ssl.use_private_key(asio::buffer(tls.key_pem), asio::ssl::context::pem);
  SSL_CTX_set_alpn_select_cb(ssl.native_handle(), select_alpn, nullptr);

  st_->acceptor.open(listen.protocol());
  st_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  st_->acceptor.bind(listen);
  st_->acceptor.listen();
  st_->port = st_->acceptor.local_endpoint().port();
  // The loop holds the state; stop() ends it and every connection, so the io_context drains.
  co_spawn(st_->ex, accept_loop(st_), asio::detached);
}

tls_front::~tls_front() { stop(); }

std::uint16_t tls_front::port() const { return st_->port; }

void tls_front::stop() {
  if (st_->stopped.exchange(true)) return;
  asio::dispatch(st_->ex, [st = st_] { st->do_stop(); });
}

}  // namespace bp::fake_c1::detail
