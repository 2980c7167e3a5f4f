#pragma once
// Shared pieces of the hardening tests: scratch directories, fast sync options against a loopback
// server, temp-file listing, and a walk over every protobuf string of a c1z.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/fixture/generated_tenant.hpp"
#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/sync/options.hpp"
#include "baton_percipio/sync/summary.hpp"

namespace bp::hardening {

namespace fs = std::filesystem;

// A fresh directory under the build tree, removed on destruction.
class scratch_dir {
 public:
  scratch_dir() {
    std::string tmpl = (fs::path(BP_BINARY_DIR) / "hardening-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

// The writer's working directories (.NAME.work-XXXXXX) and temporary files (.NAME.tmp-XXXXXX).
inline std::vector<std::string> temp_leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.size() > 1 && name[0] == '.' &&
        (name.find(".work-") != std::string::npos || name.find(".tmp-") != std::string::npos))
      out.push_back(name);
  }
  return out;
}

inline std::shared_ptr<fixture::generated_tenant> small_tenant(std::uint64_t users = 60, std::uint64_t items = 50,
                                                               std::uint64_t rows = 400) {
  fixture::generator_config g;
  g.users = users;
  g.catalog_items = items;
  g.report_rows = rows;
  g.seed = 7;
  return std::make_shared<fixture::generated_tenant>(g);
}

// Sync options for a loopback server: small pages, tiny waits, short timeouts, no progress output.
inline sync::options fast_options(const std::string& base_url, const fs::path& destination) {
  sync::options o;
  o.api.base_url = base_url;
  o.api.org_id = fixture::demo_org_id;
  o.api.token = fixture::demo_token;
  o.api.concurrency = 4;
  o.api.page_size = 20;
  o.api.rate_limit = {};
  o.api.retry.max_attempts = 4;
  o.api.retry.base_delay = std::chrono::milliseconds(1);
  o.api.retry.max_delay = std::chrono::milliseconds(4);
  o.api.retry.rate_limit_base = std::chrono::milliseconds(1);
  o.api.retry.max_retry_after = std::chrono::milliseconds(2);
  o.api.retry.seed = 5;
  o.api.poll_initial = std::chrono::milliseconds(1);
  o.api.poll_max = std::chrono::milliseconds(4);
  o.api.report_timeout = std::chrono::seconds(20);
  o.http.t.connect = std::chrono::milliseconds(2000);
  o.http.t.tls_handshake = std::chrono::milliseconds(2000);
  o.http.t.write = std::chrono::milliseconds(2000);
  o.http.t.first_byte = std::chrono::milliseconds(3000);
  o.http.t.idle_read = std::chrono::milliseconds(3000);
  o.http.max_connections_per_host = 5;
  o.destination = destination;
  o.sync_timeout = std::chrono::seconds(30);
  o.progress = sync::progress_mode::off;
  return o;
}

// A successful sync wrote exactly the tenant's expected records: the summary and the file read back.
void check_matches_expected(const sync::summary& s, const fixture::tenant& t, const fs::path& file);

// Quiet logs for the whole binary (tests that capture logs set their own level and sink).
void quiet_logs();

}  // namespace bp::hardening
