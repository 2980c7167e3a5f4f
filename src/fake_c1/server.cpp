#include "baton_percipio/fake_c1/server.hpp"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

#include "baton_percipio/httpd/server.hpp"
#include "baton_service.hpp"
#include "certs.hpp"
#include "state.hpp"
#include "tls_front.hpp"
#include "token_endpoint.hpp"

namespace bp::fake_c1 {

struct server::impl {
  std::shared_ptr<detail::state> st;
  detail::tls_material tls;
  client_credentials creds;
  std::filesystem::path ca_file;
  std::string address;

  std::unique_ptr<detail::baton_service> service;
  std::unique_ptr<grpc::Server> grpc_server;
  asio::io_context ctx;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::unique_ptr<httpd::server> token_http;
  std::unique_ptr<detail::tls_front> front;
  std::thread thread;
  std::mutex stop_mu;
  bool stopped = false;

  void stop() {
    std::lock_guard lock(stop_mu);
    if (stopped) return;
    stopped = true;
    if (front) front->stop();
    if (token_http) token_http->stop();
    guard.reset();
    if (grpc_server) {
      // In-flight calls (an upload waiting for data) are cancelled after this grace period.
      grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
      grpc_server->Wait();
    }
    if (thread.joinable()) thread.join();
  }
};

namespace {

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

server::server(options opts) : impl_(std::make_unique<impl>()) {
  auto& m = *impl_;
  if (!opts.upload_dir.empty()) std::filesystem::create_directories(opts.upload_dir);
  m.st = std::make_shared<detail::state>(std::move(opts));
  const options& o = m.st->opts;
  m.tls = detail::generate_tls_material();
  if (!o.ca_out.empty()) {
    write_file(o.ca_out, m.tls.ca_pem);
    m.ca_file = o.ca_out;
  }

  // The gRPC server speaks plaintext HTTP/2 on a loopback port only the TLS front connects to.
  m.service = std::make_unique<detail::baton_service>(m.st);
  int grpc_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(m.service.get());
  builder.SetMaxReceiveMessageSize(8 * 1024 * 1024);  // above the 1 MiB data limit we check ourselves
  m.grpc_server = builder.BuildAndStart();
  if (!m.grpc_server || grpc_port == 0) throw std::runtime_error("gRPC server did not start");

  auto loopback = asio::ip::make_address("127.0.0.1");
  try {
    m.token_http = std::make_unique<httpd::server>(m.ctx.get_executor(), asio::ip::tcp::endpoint(loopback, 0),
                                                   detail::make_token_handler(m.st));
    auto st = m.st;
    m.front = std::make_unique<detail::tls_front>(
        m.ctx.get_executor(), m.tls, asio::ip::tcp::endpoint(asio::ip::make_address(o.address), o.port),
        asio::ip::tcp::endpoint(loopback, m.token_http->port()),
        asio::ip::tcp::endpoint(loopback, static_cast<std::uint16_t>(grpc_port)),
        [st](const std::string& alpn, const std::string& backend) {
          st->update([&] {
            st->connections.push_back({std::chrono::steady_clock::now(), alpn, backend});
            ++st->counts.connections;
          });
          st->log.write("Connection", [&](json::writer& j) { j.key("alpn").value(alpn).key("backend").value(backend); });
        });
  } catch (...) {
    m.grpc_server->Shutdown();
    throw;
  }
  m.address = o.address + ":" + std::to_string(m.front->port());
  m.creds = make_client_credentials(o.client_name, o.client_host.empty() ? m.address : o.client_host);
  register_client(m.creds);

  m.guard.emplace(m.ctx.get_executor());
  m.thread = std::thread([&m] { m.ctx.run(); });
}

server::~server() { stop(); }

void server::stop() { impl_->stop(); }

std::uint16_t server::port() const { return impl_->front->port(); }
std::string server::address() const { return impl_->address; }
const std::string& server::ca_pem() const { return impl_->tls.ca_pem; }
const std::filesystem::path& server::ca_file() const { return impl_->ca_file; }
const client_credentials& server::credentials() const { return impl_->creds; }

void server::register_client(const client_credentials& c) {
  impl_->st->update([&] { impl_->st->clients[c.client_id] = c.public_key; });
}

std::string server::add_task(c1::connectorapi::baton::v1::Task task) {
  std::string id = task.id();
  impl_->st->update([&] { impl_->st->queue.push_back(std::move(task)); });
  return id;
}

void server::set_faults(const faults& f) {
  impl_->st->update([&] { impl_->st->fault = f; });
}

std::string server::issue_token(std::chrono::seconds lifetime) {
  return impl_->st->update([&] { return impl_->st->issue_token_locked(impl_->creds.client_id, lifetime); });
}

#define BP_FAKE_C1_ACCESSOR(type, name)                  \
  std::vector<type> server::name() const {               \
    std::lock_guard lock(impl_->st->mu);                 \
    return impl_->st->name;                              \
  }
BP_FAKE_C1_ACCESSOR(connection_record, connections)
BP_FAKE_C1_ACCESSOR(token_request_record, token_requests)
BP_FAKE_C1_ACCESSOR(hello_record, hellos)
BP_FAKE_C1_ACCESSOR(poll_record, polls)
BP_FAKE_C1_ACCESSOR(heartbeat_record, heartbeats)
BP_FAKE_C1_ACCESSOR(upload_record, uploads)
BP_FAKE_C1_ACCESSOR(finish_record, finishes)
#undef BP_FAKE_C1_ACCESSOR

call_counts server::counts() const {
  std::lock_guard lock(impl_->st->mu);
  return impl_->st->counts;
}

bool server::wait_for(const std::function<bool(const call_counts&)>& pred, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->st->mu);
  return impl_->st->cv.wait_for(lock, timeout, [&] { return pred(impl_->st->counts); });
}

bool server::wait_until_finished(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_for([n](const call_counts& c) { return c.tasks_done >= n; }, timeout);
}

}  // namespace bp::fake_c1
