#include "report_ledger.hpp"

#include <algorithm>

namespace bp::sync::detail {

bool report_ledger::list_user(const percipio::uuid& id, std::string_view text) {
  const auto [user, fresh] = users_.try_emplace(id, static_cast<std::uint32_t>(listed_.size()));
  if (fresh) {
    listed_.push_back(1);
  } else if (listed_[user] != 0) {
    return false;
  } else {
    listed_[user] = 1;  // provisional until now: report rows named it first
  }
  if (id.to_string() != text) user_text_[user] = std::string(text);  // keep the id exactly as sent
  return true;
}

void report_ledger::map_rows(std::span<const percipio::report_row> rows, const uuid_index& courses) {
  for (const auto& row : rows) {
    std::uint32_t user;
    if (users_ended_) {
      user = users_.find(row.user);
      if (user == uuid_index::npos || listed_[user] == 0) {
        ++counted_.unknown_user;
        continue;
      }
    } else {
      const auto [u, fresh] = users_.try_emplace(row.user, static_cast<std::uint32_t>(listed_.size()));
      user = u;
      if (fresh) listed_.push_back(0);  // provisional: the users list may still deliver it
    }
    pending* p = nullptr;
    if (listed_[user] == 0) {
      if (pending_.size() <= user) pending_.resize(std::max<std::size_t>(listed_.size(), pending_.size() * 2));
      p = &pending_[user];
      ++p->rows;
    }
    const std::uint32_t course = courses.find(row.content);
    if (course == uuid_index::npos) {
      if (p) {
        ++p->unknown_course;
      } else {
        ++counted_.unknown_course;
      }
      continue;
    }
    const grant_slot slot = map_status(row.status);
    if (slot == grant_slot::none) {
      const auto status = static_cast<std::uint8_t>(row.status);
      if (p) {
        pending_unmapped_.emplace_back(user, status);
      } else {
        ++counted_.unmapped_by_status[status];  // named once, at the end
      }
      continue;
    }
    if (p) {
      ++p->mapped;
    } else {
      ++counted_.mapped;
    }
    auto& state = pairs_.at(user, course);
    const auto now = static_cast<std::uint8_t>(state & pair_slot_mask);
    if (now >= static_cast<std::uint8_t>(slot)) continue;
    if (now == static_cast<std::uint8_t>(grant_slot::none)) ++grants_seen_;
    // A completed row beats an earlier in_progress one: the pair keeps only the completed grant.
    state = static_cast<std::uint8_t>(static_cast<std::uint8_t>(slot) |
                                      (now == static_cast<std::uint8_t>(grant_slot::in_progress) ? pair_upgraded : 0));
  }
}

void report_ledger::restart_rows() {
  counted_ = row_counts{};
  std::fill(pending_.begin(), pending_.end(), pending{});
  pending_unmapped_.clear();
}

row_counts report_ledger::rows() const {
  row_counts r = counted_;
  // pending_ grows ahead of listed_ (doubling): entries past the last user are empty.
  const std::size_t users = std::min(pending_.size(), listed_.size());
  for (std::size_t user = 0; user < users; ++user) {
    const pending& p = pending_[user];
    if (listed_[user] != 0) {
      r.unknown_course += p.unknown_course;
      r.mapped += p.mapped;
    } else {
      r.unknown_user += p.rows;
    }
  }
  for (const auto& [user, status] : pending_unmapped_) {
    if (listed_[user] != 0) ++r.unmapped_by_status[status];
  }
  return r;
}

grant_counts report_ledger::grants() const {
  grant_counts g;
  pairs_.for_each([&](std::uint32_t user, std::uint32_t, std::uint8_t state) {
    if (listed_[user] == 0) return;
    switch (static_cast<grant_slot>(state & pair_slot_mask)) {
      case grant_slot::completed: ++g.completed; break;
      case grant_slot::in_progress: ++g.in_progress; break;
      case grant_slot::none: return;
    }
    if ((state & pair_upgraded) != 0) ++g.upgraded;
  });
  return g;
}

void report_ledger::append_principal(std::uint32_t user, const percipio::uuid& id, std::string& out) const {
  if (auto t = user_text_.find(user); t != user_text_.end()) {
    out += t->second;
  } else {
    id.append_to(out);
  }
}

}  // namespace bp::sync::detail
