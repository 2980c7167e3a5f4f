#include "baton_service.hpp"

#include <google/protobuf/util/time_util.h>

#include <fstream>
#include <optional>
#include <system_error>

#include "baton_percipio/fake_c1/tasks.hpp"
#include "crypto.hpp"

namespace bp::fake_c1::detail {
namespace {

using grpc::Status;
using grpc::StatusCode;
using TimeUtil = google::protobuf::util::TimeUtil;

constexpr std::size_t max_host_id = 256;
constexpr std::size_t max_chunk = 1024 * 1024;

Status authenticate(state& st, grpc::ServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  std::string_view value;
  if (it != md.end()) value = std::string_view(it->second.data(), it->second.size());
  std::lock_guard lock(st.mu);
  std::string why = st.check_bearer_locked(value);
  return why.empty() ? Status::OK : Status(StatusCode::UNAUTHENTICATED, why);
}

void set_duration(google::protobuf::Duration* d, std::chrono::milliseconds ms) {
  *d = TimeUtil::MillisecondsToDuration(ms.count());
}

// Task ids come from the client; only [A-Za-z0-9] reach a file name.
std::string file_safe(std::string_view id) {
  std::string out;
  for (char c : id) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += alnum ? c : '_';
  }
  return out.empty() ? "no-task-id" : out;
}

std::string c1z_magic(std::string_view head) {
  if (head.size() >= 5 && head.substr(0, 5) == std::string_view("C1ZF\0", 5)) return "C1ZF";
  if (head.size() >= 5 && head.substr(0, 5) == std::string_view("C1Z3\0", 5)) return "C1Z3";
  return {};
}

void log_call(state& st, std::string_view method, std::string_view host_id, std::string_view task_id,
              const Status& s, const std::function<void(json::writer&)>& more = {}) {
  st.log.write(method, [&](json::writer& j) {
    j.key("host_id").value(host_id).key("task_id").value(task_id).key("code").value(static_cast<int>(s.error_code()));
    if (!s.ok()) j.key("error").value(s.error_message());
    if (more) more(j);
  });
}

// One UploadAsset stream's bytes on their way to a record and, optionally, a file.
class upload_sink {
 public:
  upload_sink(const options& o, int stream_number) : keep_(o.keep_upload_bytes) {
    if (o.upload_dir.empty()) return;
    partial_ = o.upload_dir / ("upload-" + std::to_string(stream_number) + ".partial");
    file_.open(partial_, std::ios::binary | std::ios::trunc);
    if (!file_) throw std::runtime_error("cannot write " + partial_.string());
  }
  ~upload_sink() {
    if (!committed_ && !partial_.empty()) {
      file_.close();
      std::error_code ec;
      std::filesystem::remove(partial_, ec);  // an aborted or bad stream leaves nothing behind
    }
  }
  upload_sink(const upload_sink&) = delete;
  upload_sink& operator=(const upload_sink&) = delete;

  void add(std::string_view data) {
    hash_.update(data);
    bytes_ += data.size();
    if (head_.size() < 5) head_.append(data.substr(0, 5 - head_.size()));
    if (keep_) data_.append(data);
    if (file_.is_open()) file_.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  std::uint64_t bytes() const { return bytes_; }
  std::string digest() { return hash_.finish(); }
  std::string magic() const { return c1z_magic(head_); }
  std::string take_data() { return std::move(data_); }
  // Moves the finished file to its final name; returns it ("" when no upload dir).
  std::filesystem::path commit(const options& o, std::string_view task_id, int sequence) {
    if (partial_.empty()) {
      committed_ = true;
      return {};
    }
    file_.close();
    if (!file_) throw std::runtime_error("cannot write " + partial_.string());
    auto name = file_safe(task_id) + "." + std::to_string(sequence) + (magic().empty() ? ".bin" : ".c1z");
    auto final_path = o.upload_dir / name;
    std::filesystem::rename(partial_, final_path);
    committed_ = true;
    return final_path;
  }

 private:
  bool keep_;
  sha256 hash_;
  std::uint64_t bytes_ = 0;
  std::string head_;
  std::string data_;
  std::filesystem::path partial_;
  std::ofstream file_;
  bool committed_ = false;
};

}  // namespace

Status baton_service::Hello(grpc::ServerContext* ctx, const v1::BatonServiceHelloRequest* req,
                            v1::BatonServiceHelloResponse* /*resp*/) {
  Status s = authenticate(*st_, ctx);
  if (s.ok() && (req->host_id().empty() || req->host_id().size() > max_host_id)) {
    s = Status(StatusCode::INVALID_ARGUMENT, "host_id must be 1..256 characters");
  } else if (s.ok() && !req->has_connector_metadata()) {
    s = Status(StatusCode::INVALID_ARGUMENT, "connector_metadata is required");
  }
  bool task_done = false;
  st_->update([&] {
    hello_record r;
    r.at = std::chrono::steady_clock::now();
    r.code = static_cast<int>(s.error_code());
    r.request = *req;
    st_->hellos.push_back(std::move(r));
    ++st_->counts.hellos;
    if (!s.ok() || req->task_id().empty()) return;
    auto it = st_->handed_out.find(req->task_id());
    if (it != st_->handed_out.end() && it->second.task.has_hello() && !it->second.done) {
      it->second.done = true;
      ++st_->counts.tasks_done;
      task_done = true;
    }
  });
  log_call(*st_, "Hello", req->host_id(), req->task_id(), s, [&](json::writer& j) {
    const auto& md = req->connector_metadata();
    j.key("display_name").value(md.display_name());
    j.key("resource_types").value(static_cast<std::int64_t>(md.capabilities().resource_type_capabilities_size()));
    j.key("package").value(req->build_info().package()).key("os").value(req->os_info().os());
    j.key("task_done").value(task_done);
  });
  return s;
}

Status baton_service::GetTask(grpc::ServerContext* ctx, const v1::BatonServiceGetTaskRequest* req,
                              v1::BatonServiceGetTaskResponse* resp) {
  Status s = authenticate(*st_, ctx);
  if (s.ok() && req->host_id().empty()) s = Status(StatusCode::INVALID_ARGUMENT, "host_id is required");
  std::string task_id;
  std::string task_type;
  st_->update([&] {
    if (s.ok()) {
      ++st_->get_task_calls;
      if (st_->get_task_calls <= st_->fault.get_task_unavailable) {
        s = Status(StatusCode::UNAVAILABLE, "GetTask unavailable (fault injection)");
      } else if (!st_->queue.empty()) {
        v1::Task task = std::move(st_->queue.front());
        st_->queue.pop_front();
        task.set_status(v1::Task::STATUS_SCHEDULED);
        task_id = task.id();
        task_type = task_type_name(task);
        *resp->mutable_task() = task;
        st_->handed_out[task_id] = task_info{std::move(task)};
      }
    }
    poll_record r;
    r.at = std::chrono::steady_clock::now();
    r.code = static_cast<int>(s.error_code());
    r.host_id = req->host_id();
    r.task_id = task_id;
    r.task_type = task_type;
    st_->polls.push_back(std::move(r));
    ++st_->counts.polls;
  });
  if (s.ok()) {
    // Always set: a client that gets no next_poll polls again at once.
    set_duration(resp->mutable_next_poll(), st_->opts.next_poll);
    set_duration(resp->mutable_next_heartbeat(), st_->opts.next_heartbeat);
  }
  log_call(*st_, "GetTask", req->host_id(), task_id, s, [&](json::writer& j) {
    if (!task_type.empty()) j.key("task_type").value(task_type);
  });
  return s;
}

Status baton_service::GetTasks(grpc::ServerContext* ctx, const v1::BatonServiceGetTasksRequest* req,
                               v1::BatonServiceGetTasksResponse* /*resp*/) {
  Status s = authenticate(*st_, ctx);
  if (s.ok()) s = Status(StatusCode::UNIMPLEMENTED, "GetTasks is not served by this fake");
  log_call(*st_, "GetTasks", req->host_id(), "", s);
  return s;
}

Status baton_service::Heartbeat(grpc::ServerContext* ctx, const v1::BatonServiceHeartbeatRequest* req,
                                v1::BatonServiceHeartbeatResponse* resp) {
  Status s = authenticate(*st_, ctx);
  bool cancelled = false;
  st_->update([&] {
    if (s.ok()) {
      ++st_->heartbeat_calls;
      auto it = st_->handed_out.find(req->task_id());
      if (it != st_->handed_out.end()) {
        if (st_->heartbeat_calls == st_->fault.cancel_heartbeat) it->second.cancelled = true;
        cancelled = it->second.cancelled;
      } else if (st_->heartbeat_calls == st_->fault.cancel_heartbeat) {
        cancelled = true;
      }
    }
    heartbeat_record r;
    r.at = std::chrono::steady_clock::now();
    r.code = static_cast<int>(s.error_code());
    r.host_id = req->host_id();
    r.task_id = req->task_id();
    r.cancelled = cancelled;
    st_->heartbeats.push_back(std::move(r));
    ++st_->counts.heartbeats;
  });
  if (s.ok()) {
    set_duration(resp->mutable_next_heartbeat(), st_->opts.next_heartbeat);
    resp->set_cancelled(cancelled);
  }
  log_call(*st_, "Heartbeat", req->host_id(), req->task_id(), s,
           [&](json::writer& j) { j.key("cancelled").value(cancelled); });
  return s;
}

Status baton_service::FinishTask(grpc::ServerContext* ctx, const v1::BatonServiceFinishTaskRequest* req,
                                 v1::BatonServiceFinishTaskResponse* /*resp*/) {
  Status s = authenticate(*st_, ctx);
  if (s.ok() && req->task_id().empty()) {
    s = Status(StatusCode::INVALID_ARGUMENT, "task_id is required");
  } else if (s.ok() && req->final_state_case() == v1::BatonServiceFinishTaskRequest::FINAL_STATE_NOT_SET) {
    s = Status(StatusCode::INVALID_ARGUMENT, "final_state (error or success) is required");
  }
  finish_record r;
  r.at = std::chrono::steady_clock::now();
  r.code = static_cast<int>(s.error_code());
  r.host_id = req->host_id();
  r.task_id = req->task_id();
  r.success = req->has_success();
  r.error = req->has_error();
  r.has_status = req->has_status();
  r.status_code = req->status().code();
  r.status_message = req->status().message();
  r.non_retryable = req->has_error() && req->error().non_retryable();
  if (req->has_success() && req->success().has_response()) r.response_type_url = req->success().response().type_url();
  if (req->has_error() && req->error().has_response()) r.response_type_url = req->error().response().type_url();
  bool requeued = false;
  st_->update([&] {
    auto it = st_->handed_out.find(req->task_id());
    r.known_task = it != st_->handed_out.end();
    if (s.ok() && r.known_task && !it->second.done) {
      it->second.done = true;
      ++st_->counts.tasks_done;
      if (r.error && !r.non_retryable && st_->opts.requeue_retryable) {
        st_->queue.push_back(it->second.task);  // C1 re-queues retryable failures
        requeued = true;
      }
    }
    st_->finishes.push_back(r);
    ++st_->counts.finishes;
  });
  log_call(*st_, "FinishTask", req->host_id(), req->task_id(), s, [&](json::writer& j) {
    j.key("outcome").value(r.success ? "success" : r.error ? "error" : "unset");
    if (r.has_status) j.key("status_code").value(r.status_code).key("status_message").value(r.status_message);
    j.key("non_retryable").value(r.non_retryable).key("known_task").value(r.known_task);
    if (requeued) j.key("requeued").value(true);
  });
  return s;
}

Status baton_service::UploadAsset(grpc::ServerContext* ctx,
                                  grpc::ServerReader<v1::BatonServiceUploadAssetRequest>* reader,
                                  v1::BatonServiceUploadAssetResponse* /*resp*/) {
  upload_record r;
  r.at = std::chrono::steady_clock::now();
  Status s = authenticate(*st_, ctx);
  int stream_number = 0;
  bool abort_stream = false;
  st_->update([&] {
    stream_number = ++st_->upload_streams;
    abort_stream = stream_number <= st_->fault.abort_uploads;
  });

  std::optional<upload_sink> sink;
  if (s.ok()) {
    try {
      sink.emplace(st_->opts, stream_number);
    } catch (const std::exception& e) {
      s = Status(StatusCode::INTERNAL, e.what());
    }
  }
  v1::BatonServiceUploadAssetRequest msg;
  if (s.ok()) {
    if (!reader->Read(&msg)) {
      s = Status(StatusCode::INVALID_ARGUMENT, "stream ended before metadata");
    } else if (!msg.has_metadata()) {
      s = Status(StatusCode::INVALID_ARGUMENT, "the first message must be metadata");
    } else {
      r.host_id = msg.metadata().host_id();
      r.task_id = msg.metadata().task_id();
      if (r.task_id.empty()) s = Status(StatusCode::INVALID_ARGUMENT, "metadata.task_id is required");
    }
  }
  bool eof = false;
  while (s.ok() && !eof) {
    if (!reader->Read(&msg)) {
      s = ctx->IsCancelled() ? Status(StatusCode::CANCELLED, "stream cancelled before eof")
                             : Status(StatusCode::INVALID_ARGUMENT, "stream ended before eof");
      break;
    }
    switch (msg.msg_case()) {
      case v1::BatonServiceUploadAssetRequest::kData: {
        const std::string& data = msg.data().data();
        if (data.empty() || data.size() > max_chunk) {
          s = Status(StatusCode::INVALID_ARGUMENT, "data must be 1..1048576 bytes");
          break;
        }
        if (sink->bytes() + data.size() > st_->opts.max_upload_bytes) {
          s = Status(StatusCode::RESOURCE_EXHAUSTED, "upload larger than the fake accepts");
          break;
        }
        sink->add(data);
        ++r.data_messages;
        if (abort_stream) s = Status(StatusCode::UNAVAILABLE, "upload aborted (fault injection)");
        break;
      }
      case v1::BatonServiceUploadAssetRequest::kEof: {
        const std::string& digest = msg.eof().sha256_checksum();
        if (digest.size() != 32) {
          s = Status(StatusCode::INVALID_ARGUMENT, "sha256_checksum must be 32 bytes");
        } else if (digest != sink->digest()) {
          s = Status(StatusCode::DATA_LOSS, "sha256_checksum does not match the data");
        } else {
          r.sha_ok = true;
          eof = true;
        }
        break;
      }
      case v1::BatonServiceUploadAssetRequest::kMetadata:
        s = Status(StatusCode::INVALID_ARGUMENT, "metadata sent twice");
        break;
      default:
        s = Status(StatusCode::INVALID_ARGUMENT, "message without msg");
        break;
    }
  }
  if (s.ok() && reader->Read(&msg)) s = Status(StatusCode::INVALID_ARGUMENT, "message after eof");

  if (sink) {
    r.bytes = sink->bytes();
    r.magic = sink->magic();
  }
  if (s.ok()) {
    st_->update([&] { r.sequence = st_->upload_sequence[r.task_id]++; });
    try {
      r.file = sink->commit(st_->opts, r.task_id, r.sequence);
    } catch (const std::exception& e) {
      s = Status(StatusCode::INTERNAL, e.what());
    }
    r.data = sink->take_data();
  }
  r.code = static_cast<int>(s.error_code());
  if (!s.ok()) r.error = s.error_message();
  log_call(*st_, "UploadAsset", r.host_id, r.task_id, s, [&](json::writer& j) {
    j.key("sequence").value(r.sequence).key("bytes").value(r.bytes);
    j.key("data_messages").value(static_cast<std::uint64_t>(r.data_messages)).key("sha_ok").value(r.sha_ok);
    if (!r.magic.empty()) j.key("magic").value(r.magic);
    if (!r.file.empty()) j.key("file").value(r.file.string());
  });
  st_->update([&] {
    ++st_->counts.upload_streams;
    if (s.ok()) ++st_->counts.uploads_stored;
    st_->uploads.push_back(std::move(r));
  });
  return s;
}

Status baton_service::StartDebugging(grpc::ServerContext* ctx, const v1::StartDebuggingRequest* /*req*/,
                                     v1::StartDebuggingResponse* resp) {
  Status s = authenticate(*st_, ctx);
  if (s.ok()) resp->set_status(false);
  log_call(*st_, "StartDebugging", "", "", s);
  return s;
}

}  // namespace bp::fake_c1::detail
