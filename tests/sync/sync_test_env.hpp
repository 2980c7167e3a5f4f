#pragma once
// A fixture server plus a scratch directory and sync options pointing at it, for end-to-end tests.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "baton_percipio/fixture/server.hpp"
#include "baton_percipio/sync/options.hpp"

namespace bp::sync::test {

class scratch_dir {
 public:
  scratch_dir() {
    std::string t = (std::filesystem::temp_directory_path() / "bp-sync-test-XXXXXX").string();
    if (!mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    path_ = t;
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Options for a fast, quiet sync against `server` writing `dest`.
inline options fast_options(const fixture::background_server& server, const std::filesystem::path& dest) {
  options o;
  o.api.base_url = server.base_url();
  o.api.org_id = fixture::demo_org_id;
  o.api.token = fixture::demo_token;
  o.api.poll_initial = std::chrono::milliseconds(1);
  o.api.poll_max = std::chrono::milliseconds(5);
  o.api.rate_limit = {};
  o.api.retry.base_delay = std::chrono::milliseconds(1);
  o.api.retry.max_delay = std::chrono::milliseconds(10);
  o.api.retry.rate_limit_base = std::chrono::milliseconds(1);
  o.api.retry.seed = 7;
  o.destination = dest;
  o.progress = progress_mode::off;
  o.sync_timeout = std::chrono::seconds(60);
  return o;
}

}  // namespace bp::sync::test
