#pragma once
// Reads a baton v0.3.15 `.c1z` (ours or baton-sdk's): checks the C1ZF header, decompresses with a size
// cap into a private temporary directory, opens the database read-only and selects the latest finished
// full sync (spec 4.4). Every problem (not a c1z, truncated, corrupt, no finished sync) is a
// bp::c1z::error with a one-line message.
#include <c1/connector/v2/entitlement.pb.h>
#include <c1/connector/v2/grant.pb.h>
#include <c1/connector/v2/resource.pb.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baton_percipio/c1z/error.hpp"

namespace bp::c1z {

struct reader_options {
  std::filesystem::path temp_dir;                      // empty = the system temp directory
  std::uint64_t max_decoded_bytes = 3ull << 30;        // like baton's 3 GiB default
};

struct sync_run_info {
  std::string sync_id;
  std::string started_at;
  std::string ended_at;
  std::string sync_token;
  std::string sync_type;
  std::string parent_sync_id;
};

// Rows passed to the for_each_* callbacks; views are valid during the callback only.
struct resource_type_row {
  std::int64_t row_id;
  std::string_view external_id;
  std::string_view data;
  const c1::connector::v2::ResourceType& message;
};
struct resource_row {
  std::int64_t row_id;
  std::string_view resource_type_id;
  std::string_view external_id;
  std::string_view data;
  const c1::connector::v2::Resource& message;
};
struct entitlement_row {
  std::int64_t row_id;
  std::string_view resource_type_id;
  std::string_view resource_id;
  std::string_view external_id;
  std::string_view data;
  const c1::connector::v2::Entitlement& message;
};
struct grant_row {
  std::int64_t row_id;
  std::string_view resource_type_id;
  std::string_view resource_id;
  std::string_view entitlement_id;
  std::string_view principal_resource_type_id;
  std::string_view principal_resource_id;
  std::string_view external_id;
  std::string_view data;
  const c1::connector::v2::Grant& message;
};

struct reader_stats {
  std::uint64_t resource_types = 0;
  std::vector<std::pair<std::string, std::uint64_t>> resources;  // per declared resource type, row order
  std::uint64_t entitlements = 0;
  std::uint64_t grants = 0;
};

class reader {
 public:
  explicit reader(const std::filesystem::path& file, reader_options options = {});
  ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  const sync_run_info& sync() const;
  std::uint64_t database_bytes() const;

  // Rows of the selected sync in id order.
  void for_each_resource_type(const std::function<void(const resource_type_row&)>& fn) const;
  void for_each_resource(const std::function<void(const resource_row&)>& fn) const;
  void for_each_entitlement(const std::function<void(const entitlement_row&)>& fn) const;
  void for_each_grant(const std::function<void(const grant_row&)>& fn) const;

  reader_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bp::c1z
