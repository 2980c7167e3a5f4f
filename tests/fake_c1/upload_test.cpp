// UploadAsset: metadata, data*, eof with the SHA-256; checks, storage and the abort fault.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "baton_percipio/fake_c1/server.hpp"
#include "crypto.hpp"
#include "test_client.hpp"

namespace fc = bp::fake_c1;
namespace t = bp::fake_c1_test;
namespace v1 = c1::connectorapi::baton::v1;
using Req = v1::BatonServiceUploadAssetRequest;

namespace {

Req metadata(const std::string& task_id) {
  Req r;
  r.mutable_metadata()->set_host_id("test-host");
  r.mutable_metadata()->set_task_id(task_id);
  return r;
}
Req data(std::string bytes) {
  Req r;
  r.mutable_data()->set_data(std::move(bytes));
  return r;
}
Req eof(std::string digest) {
  Req r;
  r.mutable_eof()->set_sha256_checksum(std::move(digest));
  return r;
}

// Sends the messages on one stream (stopping at the first failed write) and returns the status.
grpc::Status upload(v1::BatonService::Stub& stub, const std::string& token, const std::vector<Req>& msgs) {
  grpc::ClientContext ctx;
  t::prepare(ctx, token);
  v1::BatonServiceUploadAssetResponse resp;
  auto writer = stub.UploadAsset(&ctx, &resp);
  for (const auto& m : msgs) {
    if (!writer->Write(m)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

// Like the SDK: 512 KiB data messages, the remainder last.
std::vector<Req> sdk_upload(const std::string& task_id, const std::string& bytes) {
  std::vector<Req> msgs{metadata(task_id)};
  for (std::size_t off = 0; off < bytes.size(); off += 512 * 1024) msgs.push_back(data(bytes.substr(off, 512 * 1024)));
  msgs.push_back(eof(bp::fake_c1::detail::sha256_of(bytes)));
  return msgs;
}

std::string c1z_like(std::size_t size) {
  std::string s("C1ZF\0", 5);
  while (s.size() < size) s += static_cast<char>(s.size() * 31 % 251);
  return s;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct scratch {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("fake_c1_uploads_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  ~scratch() { std::filesystem::remove_all(dir); }
  static inline int counter = 0;
};

}  // namespace

TEST_CASE("a well-formed upload is stored per task and sequence, in memory and on disk") {
  scratch tmp;
  fc::options o;
  o.upload_dir = tmp.dir;
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  const std::string task = "TaskTaskTaskTaskTaskTask123";
  const std::string c1z = c1z_like(1'300'000);  // three data messages
  const std::string log = "debug log line\n";

  REQUIRE(upload(*stub, token, sdk_upload(task, c1z)).ok());
  REQUIRE(upload(*stub, token, sdk_upload(task, log)).ok());
  REQUIRE(upload(*stub, token, sdk_upload("OtherOtherOtherOtherOther12", "")).ok());  // empty file: no data

  auto ups = srv.uploads();
  REQUIRE(ups.size() == 3);
  CHECK(ups[0].code == 0);
  CHECK(ups[0].task_id == task);
  CHECK(ups[0].host_id == "test-host");
  CHECK(ups[0].sequence == 0);
  CHECK(ups[0].data_messages == 3);
  CHECK(ups[0].bytes == c1z.size());
  CHECK(ups[0].sha_ok);
  CHECK(ups[0].magic == "C1ZF");
  CHECK(ups[0].data == c1z);
  CHECK(ups[0].file == tmp.dir / (task + ".0.c1z"));
  CHECK(read_file(ups[0].file) == c1z);
  CHECK(ups[1].sequence == 1);
  CHECK(ups[1].magic.empty());
  CHECK(ups[1].file == tmp.dir / (task + ".1.bin"));
  CHECK(ups[2].sequence == 0);
  CHECK(ups[2].bytes == 0);
  CHECK(ups[2].data_messages == 0);
  CHECK(srv.counts().uploads_stored == 3);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.dir)) ++files;
  CHECK(files == 3);
}

TEST_CASE("protocol violations: INVALID_ARGUMENT or DATA_LOSS, nothing stored") {
  scratch tmp;
  fc::options o;
  o.upload_dir = tmp.dir;
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  const std::string task = "TaskTaskTaskTaskTaskTask123";
  const std::string bytes = c1z_like(1000);
  const std::string digest = bp::fake_c1::detail::sha256_of(bytes);

  CHECK(upload(*stub, token, {data(bytes), eof(digest)}).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, token, {metadata(task), data(bytes), eof(std::string(32, 'x'))}).error_code() ==
        grpc::StatusCode::DATA_LOSS);
  CHECK(upload(*stub, token, {metadata(task), data(bytes), eof(digest.substr(0, 31))}).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, token, {metadata(task), data(""), eof(digest)}).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, token, {metadata(task), data(std::string(1024 * 1024 + 1, 'a')), eof(digest)}).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, token, {metadata(task), data(bytes)}).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, token, {metadata(task), metadata(task)}).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, token, {metadata(task), data(bytes), eof(digest), data(bytes)}).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, token, {metadata(""), data(bytes), eof(digest)}).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(upload(*stub, "", sdk_upload(task, bytes)).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  // exactly 1 MiB is allowed
  const std::string mib(1024 * 1024, 'b');
  CHECK(upload(*stub, token, {metadata(task), data(mib), eof(bp::fake_c1::detail::sha256_of(mib))}).ok());

  auto ups = srv.uploads();
  REQUIRE(ups.size() == 11);
  CHECK(ups[1].error == "sha256_checksum does not match the data");
  for (std::size_t i = 0; i < 10; ++i) CHECK(ups[i].sequence == -1);
  CHECK(ups[10].sequence == 0);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.dir)) ++files;
  CHECK(files == 1);  // only the good one; no partial files
}

TEST_CASE("abort fault: the first stream fails UNAVAILABLE, a retry from byte 0 is stored") {
  scratch tmp;
  fc::options o;
  o.upload_dir = tmp.dir;
  o.fault.abort_uploads = 1;
  fc::server srv(o);
  auto stub = t::make_stub(srv);
  const std::string token = srv.issue_token(std::chrono::seconds(60));
  const std::string task = "TaskTaskTaskTaskTaskTask123";
  const std::string bytes = c1z_like(1'100'000);

  CHECK(upload(*stub, token, sdk_upload(task, bytes)).error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(upload(*stub, token, sdk_upload(task, bytes)).ok());
  auto ups = srv.uploads();
  REQUIRE(ups.size() == 2);
  CHECK(ups[0].sequence == -1);
  CHECK(ups[0].data_messages == 1);
  CHECK(ups[0].data.empty());
  CHECK(ups[1].sequence == 0);
  CHECK(ups[1].data == bytes);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.dir)) ++files;
  CHECK(files == 1);
}
