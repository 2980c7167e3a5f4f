#include "baton_percipio/httpd/server.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <mutex>
#include <set>
#include <vector>

#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/net/task_group.hpp"

namespace bp::httpd {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using namespace asio::experimental::awaitable_operators;

// Built outside coroutines: GCC 12 mis-compiles braced string literals inside co_await expressions.
header_list plain_headers() { return {{"Content-Type", "text/plain"}}; }

// One accepted connection. The watchdog closes the socket once `expiry` passes, which bounds every
// read and write of the session without racing each operation against its own timer.
struct connection {
  explicit connection(asio::ip::tcp::socket s)
      : sock(std::move(s)), timer(sock.get_executor()) {}
  asio::ip::tcp::socket sock;
  asio::steady_timer timer;
  bp::deadline expiry = bp::no_deadline;
  bool done = false;

  void set_timeout(std::chrono::milliseconds d) {
    expiry = bp::step_deadline(bp::no_deadline, d);
    if (expiry < timer.expiry()) timer.expires_at(expiry);  // wakes the watchdog to re-arm earlier
  }
  void clear_timeout() { expiry = bp::no_deadline; }
  void close() {
    std::error_code ec;
    sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    sock.close(ec);
    timer.cancel();
  }
};

}  // namespace

struct server::state {
  state(asio::any_io_executor e, handler hd, server_options o)
      : ex(std::move(e)), acceptor(ex), h(std::move(hd)), opts(o) {}
  asio::any_io_executor ex;
  asio::ip::tcp::acceptor acceptor;
  handler h;
  server_options opts;
  std::uint16_t port = 0;
  std::atomic<bool> stopped{false};
  mutable std::mutex mu;
  std::set<connection*> conns;  // guarded by mu

  void do_stop() {
    std::error_code ec;
    acceptor.close(ec);
    std::lock_guard lock(mu);
    for (connection* c : conns) c->close();
  }
};

namespace {

// Runs beside its session and ends with it (the session's end cancels it).
asio::awaitable<void> watchdog(std::shared_ptr<connection> c) {
  while (!c->done) {
    c->timer.expires_at(c->expiry);
    co_await c->timer.async_wait(use_tuple);
    auto cs = co_await asio::this_coro::cancellation_state;
    if (c->done || cs.cancelled() != asio::cancellation_type::none) break;
    if (bp::steady_clock::now() >= c->expiry) {
      c->close();
      break;
    }
  }
}

asio::awaitable<void> session(std::shared_ptr<server::state> st, std::shared_ptr<connection> c) {
  request_parser parser(st->opts.limits);
  std::string pending;  // bytes read past the end of the previous request (pipelining)
  std::vector<char> buf(16 * 1024);
  for (;;) {
    c->set_timeout(pending.empty() ? st->opts.idle_timeout : st->opts.read_timeout);
    auto r = parser.feed(pending);
    pending.erase(0, r.consumed);
    bool any_bytes = r.consumed > 0;
    while (r.st == request_parser::state::need_more) {
      auto [ec, n] = co_await c->sock.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) {
        if (ec == asio::error::eof && any_bytes) {
          r = parser.feed_eof();
          if (r.st == request_parser::state::complete) break;
        }
        co_return;  // idle close, timeout or reset: nothing to answer
      }
      any_bytes = true;
      c->set_timeout(st->opts.read_timeout);
      std::string_view got(buf.data(), n);
      r = parser.feed(got);
      if (r.st == request_parser::state::complete && r.consumed < n) pending.append(got.substr(r.consumed));
    }
    if (r.st == request_parser::state::error) {
      response_writer w(c->sock, false, [&] { c->set_timeout(st->opts.write_timeout); });
      int status = parser.error_status();
      co_await w.async_send(status, plain_headers(), status_text(status));
      co_return;
    }
    const request& req = parser.current();
    response_writer w(c->sock, req.keep_alive, [&] { c->set_timeout(st->opts.write_timeout); });
    c->clear_timeout();  // the handler may wait on purpose (latency emulation, stalls)
    try {
      co_await st->h(req, w);
    } catch (const std::exception& e) {
      bp::log::error("http handler failed", {{"path", req.path}, {"error", e.what()}});
    }
    if (!w.started() && !w.aborted()) {
      int status = 500;
      w.set_close();
      co_await w.async_send(status, plain_headers(), status_text(status));
    } else if (!w.finished() && !w.aborted()) {
      w.abort();  // a stream that did not end cannot be delimited any more
    }
    if (w.aborted() || !w.keep_alive() || st->stopped) co_return;
    parser.next();
  }
}

// A session and its watchdog as one unit: whichever ends first cancels the other, and both have
// finished when this returns. Sessions own their state (shared with the server), so a session
// that outlives the server object only finds a closed socket.
asio::awaitable<void> run_session(std::shared_ptr<server::state> st, std::shared_ptr<connection> c) {
  try {
    co_await (session(st, c) || watchdog(c));
  } catch (const std::exception& e) {
    bp::log::error("http session failed", {{"error", e.what()}});
  }
  c->done = true;
  {
    std::lock_guard lock(st->mu);
    st->conns.erase(c.get());
  }
  c->close();
}

// Owns the sessions: when the acceptor closes (stop()), the sessions, whose sockets stop() closed
// too, are cancelled and awaited before the loop ends. The io_context then has nothing left.
asio::awaitable<void> accept_loop(std::shared_ptr<server::state> st) {
  bp::net::task_group sessions(st->ex);
  for (;;) {
    auto [ec, sock] = co_await st->acceptor.async_accept(use_tuple);
    if (st->stopped || ec == asio::error::operation_aborted || !st->acceptor.is_open()) break;
    if (ec) {
      // Out of descriptors and similar: back off briefly instead of spinning.
      asio::steady_timer t(st->ex, std::chrono::milliseconds(20));
      co_await t.async_wait(use_tuple);
      continue;
    }
    std::error_code ignored;
    sock.set_option(asio::ip::tcp::no_delay(true), ignored);
    auto c = std::make_shared<connection>(std::move(sock));
    {
      std::lock_guard lock(st->mu);
      st->conns.insert(c.get());
    }
    sessions.spawn(run_session(st, c));
  }
  sessions.cancel();
  co_await sessions.join();
}

}  // namespace

server::server(asio::any_io_executor ex, const asio::ip::tcp::endpoint& ep, handler h,
               server_options opts)
    : state_(std::make_shared<state>(ex, std::move(h), opts)) {
  state_->acceptor.open(ep.protocol());
  state_->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(ep);
  state_->acceptor.listen();
  state_->port = state_->acceptor.local_endpoint().port();
  // The loop holds the state it uses; stop() ends it and every session, so whoever runs the
  // io_context sees it drain (background_metrics and the fixture server join their thread on that).
  co_spawn(state_->ex, accept_loop(state_), asio::detached);
}

server::~server() { stop(); }

std::uint16_t server::port() const { return state_->port; }

void server::stop() {
  if (state_->stopped.exchange(true)) return;
  asio::dispatch(state_->ex, [st = state_] { st->do_stop(); });
}

std::size_t server::open_connections() const {
  std::lock_guard lock(state_->mu);
  return state_->conns.size();
}

}  // namespace bp::httpd
