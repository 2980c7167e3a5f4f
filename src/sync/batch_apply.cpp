#include "batch_apply.hpp"

#include <chrono>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "baton_percipio/c1z/records.hpp"
#include "baton_percipio/core/deadline.hpp"
#include "baton_percipio/core/log.hpp"
#include "baton_percipio/sync/mapping.hpp"

namespace bp::sync::detail {

void apply(c1z::writer& w, record_batch& b, std::string& buf, std::atomic<std::uint64_t>& rows_written) {
  for (auto& u : b.users()) {
    buf.clear();
    const auto record = map_user(std::move(u));
    c1z::encode_resource(record, buf);
    w.add_resource(user_type, record.id, buf);
  }
  std::vector<std::string_view> removals;  // principals whose grants go, together after the rows
  std::string_view removal_type;
  for (const auto& r : b.rows()) {
    auto f = [&](std::size_t i) { return b.field(r, i); };
    switch (r.kind) {
      case row_kind::resource_type: w.add_resource_type(f(0), f(1)); break;
      case row_kind::resource: w.add_resource(f(0), f(1), f(2)); break;
      case row_kind::entitlement: w.add_entitlement(f(0), f(1), f(2), f(3)); break;
      case row_kind::grant: w.add_grant(f(0), f(1), f(2), f(3), f(4), f(5), f(6)); break;
      case row_kind::remove_principal_grants:
        if (!removals.empty() && f(0) != removal_type) throw std::logic_error("one principal type per batch");
        removal_type = f(0);
        removals.push_back(f(1));
        break;
    }
  }
  if (!removals.empty()) {
    const auto t0 = steady_clock::now();
    const auto n = w.remove_grants_of(removal_type, removals);
    log::info("grants of principals removed", {{"principals", static_cast<std::uint64_t>(removals.size())},
                                                {"grants", n},
                                                {"seconds", std::chrono::duration<double>(steady_clock::now() - t0).count()}});
  }
  if (b.objects_complete()) {
    const auto t0 = steady_clock::now();
    w.index_objects();
    log::info("resources and entitlements indexed",
              {{"seconds", std::chrono::duration<double>(steady_clock::now() - t0).count()}});
  }
  if (b.grants_complete()) {
    const auto t0 = steady_clock::now();
    w.index_grants();
    log::info("grants indexed before the end of the sync",
              {{"seconds", std::chrono::duration<double>(steady_clock::now() - t0).count()}});
  }
  rows_written.fetch_add(b.size() - removals.size(), std::memory_order_relaxed);  // rows stored, not removals
}

}  // namespace bp::sync::detail
