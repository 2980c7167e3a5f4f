#pragma once
// A batch of encoded rows for the writer thread: one arena string holds every field, rows hold
// offsets into it, so a batch of thousands of grants is two allocations. A batch can also carry
// users still to be mapped and encoded: the writer thread does that work, the io thread only parses.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "baton_percipio/percipio/model.hpp"

namespace bp::sync::detail {

enum class row_kind : std::uint8_t { resource_type, resource, entitlement, grant, remove_principal_grants };

struct span_ref {
  std::uint32_t offset = 0;
  std::uint32_t size = 0;
};

struct row {
  row_kind kind;
  std::array<span_ref, 7> f;  // meaning per kind: see the add_* functions
};

class record_batch {
 public:
  bool empty() const { return rows_.empty() && users_.empty() && !objects_complete_ && !grants_complete_; }
  std::size_t size() const { return rows_.size() + users_.size(); }
  std::size_t bytes() const { return arena_.size(); }
  const std::vector<row>& rows() const { return rows_; }
  std::string_view field(const row& r, std::size_t i) const {
    return std::string_view(arena_).substr(r.f[i].offset, r.f[i].size);
  }
  std::string& arena() { return arena_; }

  span_ref put(std::string_view s) {
    span_ref ref{static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(s.size())};
    arena_.append(s);
    return ref;
  }
  // f: id, data
  void add_resource_type(std::string_view id, std::string_view data) {
    rows_.push_back({row_kind::resource_type, {put(id), put(data)}});
  }
  // f: type, id, data
  void add_resource(std::string_view type, std::string_view id, std::string_view data) {
    rows_.push_back({row_kind::resource, {put(type), put(id), put(data)}});
  }
  // f: resource type, resource id, entitlement id, data
  void add_entitlement(std::string_view rt, std::string_view rid, std::string_view id, std::string_view data) {
    rows_.push_back({row_kind::entitlement, {put(rt), put(rid), put(id), put(data)}});
  }
  // f: resource type, resource id, entitlement id, principal type, principal id, grant id, data
  void add_grant(std::string_view rt, std::string_view rid, std::string_view ent, std::string_view ptype,
                 std::string_view pid, span_ref grant_id, span_ref data) {
    row r{row_kind::grant, {put(rt), put(rid), put(ent), put(ptype), put(pid), grant_id, data}};
    rows_.push_back(r);
  }
  // User resources, mapped and encoded by the writer thread (before the rows).
  void add_user(percipio::user&& u) { users_.push_back(std::move(u)); }
  std::vector<percipio::user>& users() { return users_; }

  // f: principal type, principal id. Applied after the batch's other rows, all at once, and all of
  // one principal type.
  void add_remove_principal_grants(std::string_view ptype, std::string_view pid) {
    rows_.push_back({row_kind::remove_principal_grants, {put(ptype), put(pid)}});
  }

  // No resource or entitlement follows this batch: the writer may index them now.
  void mark_objects_complete() { objects_complete_ = true; }
  bool objects_complete() const { return objects_complete_; }
  // Every grant is in (corrections may follow): the writer may index them now.
  void mark_grants_complete() { grants_complete_ = true; }
  bool grants_complete() const { return grants_complete_; }

 private:
  std::string arena_;
  std::vector<row> rows_;
  std::vector<percipio::user> users_;
  bool objects_complete_ = false;
  bool grants_complete_ = false;
};

}  // namespace bp::sync::detail
