#include "baton_percipio/net/client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <cstdlib>
#include <list>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/detail/proxy_tunnel.hpp"
#include "baton_percipio/net/detail/response_parser.hpp"

namespace bp::net {
namespace {

using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

struct connection {
  connection(const asio::any_io_executor& ex, asio::ssl::context& ctx) : stream(ex, ctx) {}
  asio::ssl::stream<tcp::socket> stream;
  bool tls = false;
  std::vector<char> buf = std::vector<char>(64 * 1024);

  void close() {
    std::error_code ec;
    stream.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream.next_layer().close(ec);
  }
  bool is_open() const { return stream.next_layer().is_open(); }

  asio::awaitable<std::tuple<std::error_code, std::size_t>> read_some() {
    if (tls) return stream.async_read_some(asio::buffer(buf), tuple_awaitable);
    return stream.next_layer().async_read_some(asio::buffer(buf), tuple_awaitable);
  }
  asio::awaitable<std::tuple<std::error_code, std::size_t>> write(const std::string& data) {
    if (tls) return asio::async_write(stream, asio::buffer(data), tuple_awaitable);
    return asio::async_write(stream.next_layer(), asio::buffer(data), tuple_awaitable);
  }
};

struct waiter {
  explicit waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool woken = false;
};

struct host_pool {
  std::vector<std::unique_ptr<connection>> idle;
  std::size_t open = 0;  // idle + leased
  std::list<waiter*> waiters;

  void wake_one() {
    if (waiters.empty()) return;
    waiter* w = waiters.front();
    waiters.pop_front();
    w->woken = true;
    w->timer.cancel();
  }
};

bool is_abort(const std::error_code& ec) { return ec == asio::error::operation_aborted; }

bool is_peer_close(const std::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

// Races op against the step deadline. Timer wins: errc::timeout; cancelled from outside: errc::cancelled.
template <class... R>
asio::awaitable<std::tuple<std::error_code, R...>> bounded(asio::awaitable<std::tuple<std::error_code, R...>> op,
                                                           bp::deadline d) {
  using result = std::tuple<std::error_code, R...>;
  try {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_at(d);
    auto r = co_await (std::move(op) || timer.async_wait(tuple_awaitable));
    if (r.index() == 0) {
      result out = std::move(std::get<0>(r));
      if (is_abort(std::get<0>(out))) std::get<0>(out) = errc::cancelled;
      co_return out;
    }
    result out{};
    std::get<0>(out) = is_abort(std::get<0>(std::get<1>(r))) ? make_error_code(errc::cancelled)
                                                              : make_error_code(errc::timeout);
    co_return out;
  } catch (const std::system_error& e) {
    if (!is_abort(e.code())) throw;
    result out{};
    std::get<0>(out) = errc::cancelled;
    co_return out;
  }
}

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace

struct client::impl {
  impl(asio::any_io_executor e, client_options o) : ex(std::move(e)), opts(std::move(o)), ssl(asio::ssl::context::tls_client) {
    SSL_CTX_set_min_proto_version(ssl.native_handle(), TLS1_2_VERSION);
    std::error_code ec;
    ssl.set_default_verify_paths(ec);
    if (ec) log::warn("cannot load the system CA store", {{"error", ec.message()}});
    // SSL_CERT_FILE / SSL_CERT_DIR replace OpenSSL's default store in set_default_verify_paths: the
    // system store is added back, so such a file is trusted in addition to it (as Go does with
    // SSL_CERT_FILE set for a private CA). Missing system paths are not an error.
    if (std::getenv("SSL_CERT_FILE") != nullptr) {
      std::error_code ignored;
      ssl.load_verify_file(X509_get_default_cert_file(), ignored);
      ERR_clear_error();
    }
    if (std::getenv("SSL_CERT_DIR") != nullptr) {
      std::error_code ignored;
      ssl.add_verify_path(X509_get_default_cert_dir(), ignored);
      ERR_clear_error();
    }
    if (!opts.ca_file.empty()) {
      ssl.load_verify_file(opts.ca_file, ec);
      if (ec) {
        std::string reason = openssl_errors();
        throw std::runtime_error("cannot load CA file '" + opts.ca_file + "': " + ec.message() +
                                 (reason.empty() ? "" : " (" + reason + ")"));
      }
    }
    ssl.set_verify_mode(opts.verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
    if (opts.max_connections_per_host == 0) opts.max_connections_per_host = 1;
    for (const auto* p : {&opts.proxy.https_proxy, &opts.proxy.http_proxy}) {
      if (!p->has_value() || !(*p)->has_credentials()) continue;
      if (!(*p)->password.empty()) log::add_secret((*p)->password);
      log::add_secret((*p)->basic_authorization());
      log::add_secret((*p)->basic_authorization().substr(6));  // the base64 alone
    }
  }

  asio::any_io_executor ex;
  client_options opts;
  asio::ssl::context ssl;
  std::unordered_map<std::string, host_pool> pools;
  std::atomic<std::uint64_t> requests{0}, bytes_received{0}, connections_opened{0};

  // A leased connection; returns to the pool only when marked reusable, otherwise it is closed.
  struct lease {
    impl* owner = nullptr;
    host_pool* pool = nullptr;
    std::unique_ptr<connection> conn;
    bool reused = false;
    bool reusable = false;
    lease() = default;
    lease(lease&& o) noexcept
        : owner(o.owner), pool(o.pool), conn(std::move(o.conn)), reused(o.reused), reusable(o.reusable) {
      o.pool = nullptr;
    }
    lease& operator=(lease&&) = delete;
    ~lease() {
      if (pool == nullptr || !conn) return;
      if (reusable && conn->is_open()) {
        pool->idle.push_back(std::move(conn));
      } else {
        conn->close();
        --pool->open;
      }
      pool->wake_one();
    }
  };

  // The proxy for u, or nullptr. Only https is tunnelled: plain http goes only to loopback hosts.
  const proxy_endpoint* proxy_for(const url& u) const {
    return u.scheme == "https" ? opts.proxy.for_destination(u.scheme, u.host, u.port) : nullptr;
  }

  asio::awaitable<std::pair<std::error_code, std::unique_ptr<connection>>> open_connection(const url& u, bp::deadline d,
                                                                                           std::string& detail) {
    auto conn = std::make_unique<connection>(ex, ssl);
    bp::deadline connect_by = bp::step_deadline(d, opts.t.connect);
    // Through a proxy only the proxy's name is resolved here; the proxy resolves the destination.
    const proxy_endpoint* px = proxy_for(u);
    const std::string& dial_host = px ? px->host : u.host;
    const std::string dial_name = px ? "proxy " + px->host_port() : u.host_header();
    tcp::resolver resolver(ex);
    auto [rec, endpoints] = co_await bounded(
        resolver.async_resolve(dial_host, std::to_string(px ? px->port : u.port), tuple_awaitable), connect_by);
    if (rec) {
      if (px && rec == errc::timeout) detail = "resolve " + dial_name + ": timed out";
      if (rec == errc::timeout || rec == errc::cancelled) co_return std::pair{rec, nullptr};
      detail = "resolve " + (px ? dial_name : u.host) + ": " + rec.message();
      co_return std::pair{make_error_code(errc::connect_failed), nullptr};
    }
    auto [cec, ep] = co_await bounded(asio::async_connect(conn->stream.next_layer(), endpoints, tuple_awaitable),
                                      connect_by);
    if (cec) {
      if (px && cec == errc::timeout) detail = "connect " + dial_name + ": timed out";
      if (cec == errc::timeout || cec == errc::cancelled) co_return std::pair{cec, nullptr};
      detail = "connect " + dial_name + ": " + cec.message();
      co_return std::pair{make_error_code(errc::connect_failed), nullptr};
    }
    ++connections_opened;
    std::error_code ignored;
    conn->stream.next_layer().set_option(tcp::no_delay(true), ignored);
    if (u.scheme != "https") co_return std::pair{std::error_code{}, std::move(conn)};
    if (px) {
      if (auto tec = co_await tunnel(*conn, u, *px, d, detail)) co_return std::pair{tec, nullptr};
    }

    conn->tls = true;
    SSL* ssl_handle = conn->stream.native_handle();
    std::error_code addr_ec;
    asio::ip::make_address(u.host, addr_ec);
    bool ip_literal = !addr_ec;
    if (!ip_literal) SSL_set_tlsext_host_name(ssl_handle, u.host.c_str());  // SNI
    if (opts.verify_peer) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int ok = ip_literal ? X509_VERIFY_PARAM_set1_ip_asc(param, u.host.c_str())
                          : X509_VERIFY_PARAM_set1_host(param, u.host.c_str(), u.host.size());
      if (ok != 1) {
        detail = "cannot set the expected TLS host name";
        co_return std::pair{make_error_code(errc::tls_failed), nullptr};
      }
    }
    ERR_clear_error();
    auto [hec] = co_await bounded(conn->stream.async_handshake(asio::ssl::stream_base::client, tuple_awaitable),
                                  bp::step_deadline(d, opts.t.tls_handshake));
    if (hec) {
      if (hec == errc::timeout || hec == errc::cancelled) co_return std::pair{hec, nullptr};
      long verify = SSL_get_verify_result(ssl_handle);
      if (verify != X509_V_OK) {
        detail = std::string("TLS certificate verification failed for ") + u.host + ": " +
                 X509_verify_cert_error_string(verify);
        co_return std::pair{make_error_code(errc::tls_failed), nullptr};
      }
      if (is_peer_close(hec)) {
        detail = "TLS handshake with " + u.host + ": peer closed the connection";
        co_return std::pair{make_error_code(errc::connection_closed), nullptr};
      }
      detail = "TLS handshake with " + u.host + ": " + hec.message();
      co_return std::pair{make_error_code(errc::tls_failed), nullptr};
    }
    co_return std::pair{std::error_code{}, std::move(conn)};
  }

  // CONNECT host:port through the proxy on conn (plain TCP still). Every step is bounded like
  // the request it carries: write, first byte, then idle reads; the reply head by max_header_bytes.
  // Messages name the proxy (host:port, never its credentials).
  asio::awaitable<std::error_code> tunnel(connection& conn, const url& u, const proxy_endpoint& px, bp::deadline d,
                                          std::string& why) {
    const std::string name = "proxy " + px.host_port();
    const std::string authority =
        (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
    log::debug("http CONNECT", {{"proxy", px.host_port()}, {"destination", authority}});
    const std::string wire = detail::connect_request(authority, px, opts.user_agent);
    auto [wec, written] = co_await bounded(conn.write(wire), bp::step_deadline(d, opts.t.write));
    if (wec) {
      if (wec == errc::cancelled) co_return wec;
      why = "sending CONNECT to " + name + ": " + wec.message();
      co_return wec == errc::timeout ? wec : make_error_code(errc::proxy_protocol_error);
    }
    std::string got;
    for (bool first = true;; first = false) {
      auto [ec, n] =
          co_await bounded(conn.read_some(), bp::step_deadline(d, first ? opts.t.first_byte : opts.t.idle_read));
      if (n > 0) {
        bytes_received += n;
        got.append(conn.buf.data(), n);
      }
      const auto r = detail::parse_connect_reply(got, opts.max_header_bytes);
      using st = detail::connect_reply::state;
      if (r.st == st::complete) {
        const std::string status = "HTTP " + std::to_string(r.status) + (r.reason.empty() ? "" : " " + r.reason);
        if (r.status == 407) {
          why = name + " requires authentication (" + status + ")" +
                (px.has_credentials() ? ": it rejected the user and password in the proxy URL"
                                      : ": put user:password in the proxy URL (http://user:password@host:port)");
          co_return make_error_code(errc::proxy_auth_required);
        }
        if (r.status / 100 != 2) {
          why = name + " refused the CONNECT tunnel (" + status + ")";
          co_return make_error_code(errc::proxy_refused);
        }
        if (r.head_bytes != got.size()) {
          why = name + " sent data after its CONNECT reply, before TLS started";
          co_return make_error_code(errc::proxy_protocol_error);
        }
        co_return std::error_code{};
      }
      if (r.st == st::garbage) {
        why = name + " answered CONNECT with something other than HTTP (is it an HTTP proxy?)";
        co_return make_error_code(errc::proxy_protocol_error);
      }
      if (r.st == st::too_large) {
        why = name + " sent a CONNECT reply head above " + std::to_string(opts.max_header_bytes) + " bytes";
        co_return make_error_code(errc::proxy_protocol_error);
      }
      if (ec) {
        if (ec == errc::cancelled) co_return ec;
        if (ec == errc::timeout) {
          why = name + " did not answer CONNECT in time";
          co_return ec;
        }
        why = name + (is_peer_close(ec) ? " closed the connection before answering CONNECT"
                                        : " failed while answering CONNECT: " + ec.message());
        co_return make_error_code(errc::proxy_protocol_error);
      }
    }
  }

  // A pooled connection for u's origin, or a new one within the per-host cap; otherwise waits.
  asio::awaitable<std::pair<std::error_code, lease>> acquire(const url& u, bp::deadline d, std::string& detail) {
    // Keyed by destination and route, so a direct and a tunnelled connection never mix.
    const proxy_endpoint* px = proxy_for(u);
    host_pool& pool = pools[px ? u.origin() + " via " + px->host_port() : u.origin()];
    while (true) {
      lease l;
      l.owner = this;
      if (!pool.idle.empty()) {
        l.conn = std::move(pool.idle.back());
        pool.idle.pop_back();
        l.reused = true;
        l.pool = &pool;
        co_return std::pair{std::error_code{}, std::move(l)};
      }
      if (pool.open < opts.max_connections_per_host) {
        ++pool.open;
        auto [ec, conn] = co_await open_connection(u, d, detail);
        if (ec) {
          --pool.open;
          pool.wake_one();
          co_return std::pair{ec, lease{}};
        }
        l.conn = std::move(conn);
        l.pool = &pool;
        co_return std::pair{std::error_code{}, std::move(l)};
      }
      waiter w(ex);
      w.timer.expires_at(d);
      pool.waiters.push_back(&w);
      std::error_code wec;
      try {
        std::tie(wec) = co_await w.timer.async_wait(tuple_awaitable);
      } catch (const std::system_error& e) {
        wec = e.code();
      }
      if (!w.woken) {
        pool.waiters.remove(&w);
        co_return std::pair{make_error_code(is_abort(wec) ? errc::cancelled : errc::timeout), lease{}};
      }
      // Woken by a released slot; loop to take it. (A wake is passed on if we stop here.)
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) {
        pool.wake_one();
        co_return std::pair{make_error_code(errc::cancelled), lease{}};
      }
    }
  }

  // Writes the request and reads one response on conn. got_bytes: any response byte arrived (at
  // first_byte_at).
  asio::awaitable<std::error_code> exchange(connection& conn, const std::string& wire, const request& req,
                                            bp::deadline d, detail::response_parser& parser, bool& got_bytes,
                                            std::optional<std::chrono::steady_clock::time_point>& first_byte_at,
                                            const read_gate& gate) {
    auto [wec, written] = co_await bounded(conn.write(wire), bp::step_deadline(d, opts.t.write));
    if (wec) co_return is_peer_close(wec) ? make_error_code(errc::connection_closed) : wec;
    bool first = true;
    while (!parser.message_complete()) {
      if (gate && !first) co_await gate();
      auto [ec, n] = co_await bounded(conn.read_some(), bp::step_deadline(d, first ? opts.t.first_byte : opts.t.idle_read));
      if (n > 0) {
        bytes_received += n;
        if (!got_bytes) first_byte_at = std::chrono::steady_clock::now();
        got_bytes = true;
        if (auto pec = parser.feed(std::string_view(conn.buf.data(), n))) co_return pec;
      }
      if (ec) {
        if (is_peer_close(ec)) co_return parser.finish_eof();
        co_return ec;
      }
      first = false;
    }
    (void)req;
    co_return std::error_code{};
  }

  asio::awaitable<std::pair<std::error_code, response>> run(request req, bp::deadline d, body_sink sink, bool streaming,
                                                            read_gate gate = {}) {
    try {
      co_return co_await run_once(std::move(req), d, std::move(sink), streaming, std::move(gate));
    } catch (const std::system_error& e) {
      if (!is_abort(e.code())) throw;
    }
    co_return std::pair{make_error_code(errc::cancelled), response{}};
  }

  asio::awaitable<std::pair<std::error_code, response>> run_once(request req, bp::deadline d, body_sink sink,
                                                                 bool streaming, read_gate gate) {
    response resp;
    if (req.u.scheme != "https" && !(req.u.scheme == "http" && is_loopback_host(req.u.host))) {
      resp.error_detail = "refused " + req.u.origin() + ": only https, or http to a loopback host, is allowed";
      co_return std::pair{make_error_code(errc::insecure_url), std::move(resp)};
    }
    ++requests;
    const std::string wire = detail::serialize_request(req, opts.user_agent, opts.accept_gzip);
    if (log::enabled(log::level::debug)) {
      log::debug("http request", {{"method", req.method}, {"url", req.u.str()},
                                  {"headers", detail::redacted_headers(req.headers)}});
    }
    auto started = std::chrono::steady_clock::now();
    detail::response_parser parser;
    std::error_code ec;
    for (int attempt = 0;; ++attempt) {
      resp = response{};
      auto [aec, l] = co_await acquire(req.u, d, resp.error_detail);
      if (aec) {
        ec = aec;
        break;
      }
      detail::response_parser::limits lim{opts.max_header_bytes, streaming ? 0 : opts.max_body_bytes};
      parser.start(lim, req.method == "HEAD", sink, opts.accept_gzip);
      bool got_bytes = false;
      ec = co_await exchange(*l.conn, wire, req, d, parser, got_bytes, resp.first_byte_at, gate);
      l.reusable = !ec && parser.keep_alive();
      bool stale = l.reused && !got_bytes && attempt == 0 &&
                   (ec == errc::connection_closed || is_peer_close(ec));
      if (parser.headers_complete()) {
        resp.status = parser.status();
        resp.headers = std::move(parser.headers());
      }
      if (!streaming) resp.body = std::move(parser.body());
      if (stale) {
        // The server dropped an idle keep-alive connection: the others are likely stale too.
        host_pool* pool = l.pool;
        { lease dropped = std::move(l); }  // closes it (not reusable)
        close_idle_of(*pool);
        log::debug("http retry on a fresh connection", {{"url", req.u.origin()}, {"error", ec.message()}});
        continue;
      }
      break;
    }
    if (ec && is_peer_close(ec)) ec = errc::connection_closed;
    if (log::enabled(log::level::debug)) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      log::debug("http response", {{"method", req.method}, {"url", req.u.origin()}, {"status", resp.status},
                                   {"error", ec ? ec.message() : std::string()}, {"detail", resp.error_detail},
                                   {"ms", static_cast<std::int64_t>(ms.count())}});
    }
    if (ec && resp.error_detail.empty()) resp.error_detail = ec.message();
    co_return std::pair{ec, std::move(resp)};
  }

  void close_idle_of(host_pool& pool) {
    for (auto& c : pool.idle) c->close();
    pool.open -= pool.idle.size();
    pool.idle.clear();
    while (!pool.waiters.empty() && pool.open < opts.max_connections_per_host) pool.wake_one();
  }
};

client::client(asio::any_io_executor ex, client_options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {}

client::~client() = default;

asio::awaitable<std::pair<std::error_code, response>> client::async_request(request req, bp::deadline d) {
  auto self = impl_;
  co_return co_await self->run(std::move(req), d, {}, false);
}

asio::awaitable<std::pair<std::error_code, response>> client::async_request(request req, bp::deadline d,
                                                                            body_sink sink) {
  auto self = impl_;
  co_return co_await self->run(std::move(req), d, std::move(sink), true);
}

asio::awaitable<std::pair<std::error_code, response>> client::async_request(request req, bp::deadline d,
                                                                            body_sink sink, read_gate gate) {
  auto self = impl_;
  co_return co_await self->run(std::move(req), d, std::move(sink), true, std::move(gate));
}

void client::close_idle() {
  for (auto& [key, pool] : impl_->pools) impl_->close_idle_of(pool);
}

client::counters client::stats() const {
  return counters{impl_->requests.load(), impl_->bytes_received.load(), impl_->connections_opened.load()};
}

const client_options& client::options() const { return impl_->opts; }

}  // namespace bp::net
