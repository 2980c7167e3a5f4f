#include "baton_percipio/service/baton_client.hpp"

#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <mutex>
#include <stop_token>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "baton_percipio/core/log.hpp"
#include "c1/connectorapi/baton/v1/baton.grpc.pb.h"

#ifndef BP_VERSION
#define BP_VERSION "dev"
#endif

namespace bp::service {
namespace {

namespace v1 = c1::connectorapi::baton::v1;

std::string read_pem(const std::string& path, bool must_exist) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (must_exist) throw std::runtime_error("cannot read CA file '" + path + "'");
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The channel's trust roots: the system bundle plus the extra CA file, so a test CA given through
// SSL_CERT_FILE is trusted without dropping the public roots.
std::string root_certs(const baton_client_options& o) {
  std::string roots = read_pem(o.system_roots_file, false);
  if (!o.ca_file.empty()) {
    std::string extra = read_pem(o.ca_file, true);
    if (extra.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
      throw std::runtime_error("CA file '" + o.ca_file + "' holds no PEM certificate");
    }
    if (!roots.empty() && roots.back() != '\n') roots += '\n';
    roots += extra;
  }
  return roots;
}

rpc_status from_grpc(const grpc::Status& s) {
  return {static_cast<int>(s.error_code()), s.error_message()};
}

rpc_status from_token_failure(const failure& f) {
  return {f.code == errc::auth_failed ? rpc_code::unauthenticated : rpc_code::unavailable, f.message};
}

std::chrono::system_clock::time_point deadline_after(std::chrono::milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

// SHA-256 and size of a file, read once in chunk-sized pieces.
bool hash_file(const std::filesystem::path& file, std::size_t chunk, std::string& digest, std::uint64_t& size,
               std::string& error) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot open " + file.string();
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("OpenSSL SHA-256 setup failed");
  std::string buf(chunk, '\0');
  size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), n);
    size += n;
  }
  if (in.bad()) {
    error = "cannot read " + file.string();
    return false;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &len);
  digest.assign(reinterpret_cast<const char*>(md.data()), len);
  return true;
}

constexpr std::array<std::string_view, 17> code_names = {
    "OK",        "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",      "UNAVAILABLE",       "DATA_LOSS",        "UNAUTHENTICATED"};

}  // namespace

std::string_view rpc_code_name(int code) {
  if (code >= 0 && code < static_cast<int>(code_names.size())) return code_names[static_cast<std::size_t>(code)];
  return "CODE_OTHER";
}

struct baton_client::impl {
  impl(token_source& t, baton_client_options o) : tokens(t), opts(std::move(o)) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = root_certs(opts);
    grpc::ChannelArguments args;
    args.SetUserAgentPrefix((opts.client_name.empty() ? "" : opts.client_name + " ") + "baton-percipio/" BP_VERSION);
    // gRPC reads only lower-case proxy variables, with its own NO_PROXY rules: the decision made
    // for the HTTP client is passed explicitly instead, so both follow the same settings.
    if (const auto* px = opts.proxy.for_destination("https", opts.target.host, opts.target.port)) {
      args.SetString(GRPC_ARG_HTTP_PROXY, "http://" + px->host_port());
      if (px->has_credentials()) {
        // Our Basic value (from the percent-decoded user and password), sent with the CONNECT.
        const std::string auth = px->basic_authorization();
        log::add_secret(auth);
        log::add_secret(auth.substr(6));
        if (!px->password.empty()) log::add_secret(px->password);
        args.SetString("grpc.http_connect_headers", "Proxy-Authorization:" + auth);
      }
      log::debug("ConductorOne gRPC channel through a proxy", {{"proxy", px->host_port()}});
    } else {
      args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    }
    channel = grpc::CreateCustomChannel(opts.target.host_port(), grpc::SslCredentials(ssl), args);
    stub = v1::BatonService::NewStub(channel);
    if (opts.upload_chunk_bytes == 0) opts.upload_chunk_bytes = 524288;
  }

  // Fills ctx with the bearer and a deadline; false (and status) when no token could be had.
  bool prepare(grpc::ClientContext& ctx, std::chrono::milliseconds timeout, rpc_status& status) {
    auto auth = tokens.authorization();
    if (!auth) {
      status = from_token_failure(auth.error());
      return false;
    }
    ctx.AddMetadata("authorization", *auth);
    ctx.set_deadline(deadline_after(timeout));
    return true;
  }

  // A refused token is not reused: the next call asks for a new one.
  void after_call(const rpc_status& s) {
    if (s.code == rpc_code::unauthenticated) tokens.invalidate();
  }

  // `stop` (optional) cancels the call in flight: a stopping task does not wait out the deadline.
  template <class Req, class Reply, class Method>
  rpc_reply<Reply> unary(const Req& req, Method method, std::stop_token stop = {}) {
    rpc_reply<Reply> out;
    grpc::ClientContext ctx;
    if (!prepare(ctx, opts.call_timeout, out.status)) return out;
    std::stop_callback cancel_call(stop.stop_possible() ? stop : opts.stop, [&ctx] { ctx.TryCancel(); });
    out.status = from_grpc((stub.get()->*method)(&ctx, req, &out.reply));
    after_call(out.status);
    return out;
  }

  // One UploadAsset stream. `fatal` is set when retrying cannot help.
  rpc_status upload_once(const std::filesystem::path& file, std::uint64_t size, const std::string& digest,
                         std::string_view task_id, std::string_view host_id, const std::function<bool()>& cancelled,
                         bool& fatal) {
    rpc_status status;
    grpc::ClientContext ctx;
    if (!prepare(ctx, opts.upload_timeout, status)) return status;
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      fatal = true;
      return {rpc_code::unknown, "cannot open " + file.string() + " for upload"};
    }
    v1::BatonServiceUploadAssetResponse resp;
    std::stop_callback cancel_stream(opts.stop, [&ctx] { ctx.TryCancel(); });
    std::unique_ptr<grpc::ClientWriter<v1::BatonServiceUploadAssetRequest>> writer(stub->UploadAsset(&ctx, &resp));
    auto is_cancelled = [&] { return cancelled && cancelled(); };
    auto abandon = [&](rpc_status s) {
      ctx.TryCancel();
      writer->Finish();
      return s;
    };

    v1::BatonServiceUploadAssetRequest msg;
    auto* meta = msg.mutable_metadata();
    meta->set_host_id(std::string(host_id));
    meta->set_task_id(std::string(task_id));
    bool stream_ok = writer->Write(msg);

    std::string* data = msg.mutable_data()->mutable_data();
    std::uint64_t sent = 0;
    while (stream_ok) {
      if (is_cancelled()) return abandon({rpc_code::cancelled, "upload cancelled"});
      data->resize(opts.upload_chunk_bytes);
      in.read(data->data(), static_cast<std::streamsize>(data->size()));
      auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) break;
      data->resize(n);
      sent += n;
      if (sent > size) break;
      stream_ok = writer->Write(msg);
    }
    if (stream_ok) {
      if (in.bad() || sent != size) {
        fatal = true;
        return abandon({rpc_code::unknown, file.string() + " changed or became unreadable during the upload"});
      }
      if (is_cancelled()) return abandon({rpc_code::cancelled, "upload cancelled"});
      msg.mutable_eof()->set_sha256_checksum(digest);
      stream_ok = writer->Write(msg);
    }
    if (stream_ok) writer->WritesDone();
    // After a failed Write, Finish reports why the stream broke.
    status = from_grpc(writer->Finish());
    if (status.ok() && !stream_ok) status = {rpc_code::unknown, "upload stream closed early"};
    after_call(status);
    return status;
  }

  token_source& tokens;
  baton_client_options opts;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::BatonService::Stub> stub;
};

namespace {

// gRPC's own diagnostics go through our logger (JSON lines, redaction, task id) instead of raw
// lines on stderr; GRPC_VERBOSITY still chooses how much of them there is (default: errors).
void route_grpc_logs() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
    gpr_set_log_function([](gpr_log_func_args* a) {
      const std::string text = bp::log::redact(a->message ? a->message : "");
      switch (a->severity) {
        case GPR_LOG_SEVERITY_DEBUG: bp::log::debug("grpc", {{"message", text}}); break;
        case GPR_LOG_SEVERITY_INFO: bp::log::info("grpc", {{"message", text}}); break;
        case GPR_LOG_SEVERITY_ERROR: bp::log::warn("grpc", {{"message", text}}); break;
      }
    });
  });
}

}  // namespace

baton_client::baton_client(token_source& tokens, baton_client_options opts) {
  route_grpc_logs();
  impl_ = std::make_unique<impl>(tokens, std::move(opts));
}

baton_client::~baton_client() = default;

rpc_reply<v1::BatonServiceHelloResponse> baton_client::hello(const v1::BatonServiceHelloRequest& req) {
  return impl_->unary<v1::BatonServiceHelloRequest, v1::BatonServiceHelloResponse>(req, &v1::BatonService::Stub::Hello);
}

rpc_reply<v1::BatonServiceGetTaskResponse> baton_client::get_task(std::string_view host_id) {
  v1::BatonServiceGetTaskRequest req;
  req.set_host_id(std::string(host_id));
  return impl_->unary<v1::BatonServiceGetTaskRequest, v1::BatonServiceGetTaskResponse>(req, &v1::BatonService::Stub::GetTask);
}

rpc_reply<v1::BatonServiceHeartbeatResponse> baton_client::heartbeat(std::string_view host_id, std::string_view task_id,
                                                                      std::stop_token stop) {
  v1::BatonServiceHeartbeatRequest req;
  req.set_host_id(std::string(host_id));
  req.set_task_id(std::string(task_id));
  return impl_->unary<v1::BatonServiceHeartbeatRequest, v1::BatonServiceHeartbeatResponse>(
      req, &v1::BatonService::Stub::Heartbeat, std::move(stop));
}

rpc_reply<v1::BatonServiceFinishTaskResponse> baton_client::finish_task(const v1::BatonServiceFinishTaskRequest& req) {
  return impl_->unary<v1::BatonServiceFinishTaskRequest, v1::BatonServiceFinishTaskResponse>(
      req, &v1::BatonService::Stub::FinishTask);
}

rpc_reply<v1::BatonServiceFinishTaskResponse> baton_client::finish_success(std::string_view host_id,
                                                                           std::string_view task_id) {
  v1::BatonServiceFinishTaskRequest req;
  req.set_host_id(std::string(host_id));
  req.set_task_id(std::string(task_id));
  req.mutable_success();
  return finish_task(req);
}

rpc_reply<v1::BatonServiceFinishTaskResponse> baton_client::finish_error(std::string_view host_id,
                                                                         std::string_view task_id,
                                                                         const rpc_status& status, bool non_retryable) {
  v1::BatonServiceFinishTaskRequest req;
  req.set_host_id(std::string(host_id));
  req.set_task_id(std::string(task_id));
  req.mutable_status()->set_code(status.code);
  req.mutable_status()->set_message(status.message);
  req.mutable_error()->set_non_retryable(non_retryable);
  return finish_task(req);
}

upload_result baton_client::upload_asset(const std::filesystem::path& file, std::string_view task_id,
                                         std::string_view host_id, const std::function<bool()>& cancelled) {
  upload_result out;
  std::string error;
  if (!hash_file(file, impl_->opts.upload_chunk_bytes, out.sha256, out.bytes, error)) {
    out.status = {rpc_code::unknown, error};
    return out;
  }
  const std::size_t max_attempts = impl_->opts.upload_retry_waits.size() + 1;
  for (std::size_t attempt = 0; attempt < max_attempts; ++attempt) {
    if (attempt > 0) {
      auto wait = impl_->opts.upload_retry_waits[attempt - 1];
      bool go_on = impl_->opts.wait ? impl_->opts.wait(wait) : (std::this_thread::sleep_for(wait), true);
      if (!go_on || (cancelled && cancelled())) {
        out.status = {rpc_code::cancelled, "upload cancelled"};
        return out;
      }
    }
    bool fatal = false;
    ++out.attempts;
    out.status = impl_->upload_once(file, out.bytes, out.sha256, task_id, host_id, cancelled, fatal);
    if (out.status.ok() || fatal || out.status.code == rpc_code::cancelled) return out;
  }
  out.status.message = "upload failed after " + std::to_string(out.attempts) + " attempts: " + out.status.message;
  return out;
}

}  // namespace bp::service
