#include "baton_percipio/cli/inspect_command.hpp"

#include <c1/connector/v2/annotation_trait.pb.h>

#include <algorithm>
#include <array>
#include <exception>
#include <string_view>

#include "baton_percipio/c1z/reader.hpp"
#include "baton_percipio/core/json_writer.hpp"

namespace bp::cli {
namespace {

namespace v2 = c1::connector::v2;

constexpr std::string_view usage =
    "usage: baton-percipio inspect FILE [--resources|--entitlements|--grants|--stats] [--json]\n";

enum class view { stats, resources, entitlements, grants };

// Table cells stay on one line: control characters become spaces.
std::string cell(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

// Prints rows as left-aligned columns separated by two spaces; the last column is not padded.
template <std::size_t N>
class table {
 public:
  explicit table(std::array<std::string, N> header) { widen(header); header_ = std::move(header); }
  void widen(const std::array<std::string, N>& row) {
    for (std::size_t i = 0; i < N; ++i) width_[i] = std::max(width_[i], row[i].size());
  }
  void print(std::ostream& out, const std::array<std::string, N>& row) const {
    std::string line;
    for (std::size_t i = 0; i < N; ++i) {
      line += row[i];
      if (i + 1 < N) line.append(width_[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
  void print_header(std::ostream& out) const { print(out, header_); }

 private:
  std::array<std::string, N> header_;
  std::array<std::size_t, N> width_{};
};

std::string_view status_name(int s) {
  switch (s) {
    case v2::UserTrait::Status::STATUS_ENABLED: return "enabled";
    case v2::UserTrait::Status::STATUS_DISABLED: return "disabled";
    case v2::UserTrait::Status::STATUS_DELETED: return "deleted";
    default: return "unspecified";
  }
}

void print_stats(const c1z::reader& r, bool json, std::ostream& out) {
  const auto s = r.stats();
  const auto& sync = r.sync();
  if (json) {
    std::string buf;
    json::writer w(buf);
    w.begin_object();
    w.key("sync_id").value(sync.sync_id);
    w.key("sync_type").value(sync.sync_type);
    w.key("started_at").value(sync.started_at);
    w.key("ended_at").value(sync.ended_at);
    w.key("resource_types").value(s.resource_types);
    w.key("resources").begin_object();
    for (const auto& [type, n] : s.resources) w.key(type).value(n);
    w.end_object();
    w.key("entitlements").value(s.entitlements);
    w.key("grants").value(s.grants);
    w.end_object();
    out << buf << '\n';
    return;
  }
  out << "sync " << sync.sync_id << " (" << sync.sync_type << "), started " << sync.started_at << ", ended "
      << sync.ended_at << "\n\n";
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("resource_types", std::to_string(s.resource_types));
  for (const auto& [type, n] : s.resources) rows.emplace_back(cell(type), std::to_string(n));
  rows.emplace_back("entitlements", std::to_string(s.entitlements));
  rows.emplace_back("grants", std::to_string(s.grants));
  std::size_t kw = 4;
  std::size_t vw = 5;
  for (const auto& [k, v] : rows) {
    kw = std::max(kw, k.size());
    vw = std::max(vw, v.size());
  }
  auto line = [&](const std::string& k, const std::string& v) {
    out << k << std::string(kw - k.size() + 2 + vw - v.size(), ' ') << v << '\n';
  };
  line("NAME", "COUNT");
  for (const auto& [k, v] : rows) line(k, v);
}

void print_resources(const c1z::reader& r, bool json, std::ostream& out) {
  if (json) {
    std::string buf;
    v2::UserTrait trait;
    r.for_each_resource([&](const c1z::resource_row& row) {
      const auto& m = row.message;
      buf.clear();
      json::writer w(buf);
      w.begin_object();
      w.key("resource_type").value(m.id().resource_type());
      w.key("resource_id").value(m.id().resource());
      w.key("display_name").value(m.display_name());
      if (!m.description().empty()) w.key("description").value(m.description());
      if (m.has_parent_resource_id()) {
        w.key("parent_resource_type").value(m.parent_resource_id().resource_type());
        w.key("parent_resource_id").value(m.parent_resource_id().resource());
      }
      for (const auto& a : m.annotations()) {
        if (!a.Is<v2::UserTrait>() || !a.UnpackTo(&trait)) continue;
        if (!trait.login().empty()) w.key("login").value(trait.login());
        for (const auto& e : trait.emails())
          if (e.is_primary()) w.key("email").value(e.address());
        w.key("status").value(status_name(trait.status().status()));
      }
      w.end_object();
      out << buf << '\n';
    });
    return;
  }
  table<3> t({"TYPE", "ID", "DISPLAY NAME"});
  r.for_each_resource([&](const c1z::resource_row& row) {
    t.widen({cell(row.message.id().resource_type()), cell(row.message.id().resource()), ""});
  });
  t.print_header(out);
  r.for_each_resource([&](const c1z::resource_row& row) {
    t.print(out, {cell(row.message.id().resource_type()), cell(row.message.id().resource()),
                  cell(row.message.display_name())});
  });
}

void print_entitlements(const c1z::reader& r, bool json, std::ostream& out) {
  if (json) {
    std::string buf;
    r.for_each_entitlement([&](const c1z::entitlement_row& row) {
      const auto& m = row.message;
      buf.clear();
      json::writer w(buf);
      w.begin_object();
      w.key("id").value(m.id());
      w.key("display_name").value(m.display_name());
      if (!m.description().empty()) w.key("description").value(m.description());
      w.key("slug").value(m.slug());
      w.key("resource_type").value(m.resource().id().resource_type());
      w.key("resource_id").value(m.resource().id().resource());
      w.end_object();
      out << buf << '\n';
    });
    return;
  }
  auto row_of = [](const c1z::entitlement_row& row) {
    const auto& m = row.message;
    return std::array<std::string, 3>{cell(m.id()), cell(m.display_name()),
                                      cell(m.resource().id().resource_type() + ":" + m.resource().id().resource())};
  };
  table<3> t({"ID", "DISPLAY NAME", "RESOURCE"});
  r.for_each_entitlement([&](const c1z::entitlement_row& row) { t.widen(row_of(row)); });
  t.print_header(out);
  r.for_each_entitlement([&](const c1z::entitlement_row& row) { t.print(out, row_of(row)); });
}

void print_grants(const c1z::reader& r, bool json, std::ostream& out) {
  if (json) {
    std::string buf;
    r.for_each_grant([&](const c1z::grant_row& row) {
      const auto& m = row.message;
      buf.clear();
      json::writer w(buf);
      w.begin_object();
      w.key("id").value(m.id());
      w.key("entitlement_id").value(m.entitlement().id());
      w.key("resource_type").value(m.entitlement().resource().id().resource_type());
      w.key("resource_id").value(m.entitlement().resource().id().resource());
      w.key("principal_type").value(m.principal().id().resource_type());
      w.key("principal_id").value(m.principal().id().resource());
      w.end_object();
      out << buf << '\n';
    });
    return;
  }
  auto row_of = [](const c1z::grant_row& row) {
    const auto& m = row.message;
    return std::array<std::string, 2>{cell(m.entitlement().id()),
                                      cell(m.principal().id().resource_type() + ":" + m.principal().id().resource())};
  };
  table<2> t({"ENTITLEMENT", "PRINCIPAL"});
  r.for_each_grant([&](const c1z::grant_row& row) { t.widen(row_of(row)); });
  t.print_header(out);
  r.for_each_grant([&](const c1z::grant_row& row) { t.print(out, row_of(row)); });
}

}  // namespace

int run_inspect(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string file;
  bool json = false;
  bool have_view = false;
  view v = view::stats;
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      out << usage;
      return 0;
    }
    view next;
    if (a == "--json") {
      json = true;
      continue;
    } else if (a == "--stats") {
      next = view::stats;
    } else if (a == "--resources") {
      next = view::resources;
    } else if (a == "--entitlements") {
      next = view::entitlements;
    } else if (a == "--grants") {
      next = view::grants;
    } else if (a.size() > 1 && a[0] == '-') {
      err << "error: unknown flag for inspect: " << a << '\n' << usage;
      return 2;
    } else {
      if (!file.empty()) {
        err << "error: inspect takes one FILE, got a second: " << a << '\n' << usage;
        return 2;
      }
      file = a;
      continue;
    }
    if (have_view && next != v) {
      err << "error: " << a << " conflicts with an earlier view flag (use one of --resources, --entitlements, "
          << "--grants, --stats)\n" << usage;
      return 2;
    }
    have_view = true;
    v = next;
  }
  if (file.empty()) {
    err << "error: inspect needs a FILE\n" << usage;
    return 2;
  }
  try {
    const c1z::reader r(file);
    switch (v) {
      case view::stats: print_stats(r, json, out); break;
      case view::resources: print_resources(r, json, out); break;
      case view::entitlements: print_entitlements(r, json, out); break;
      case view::grants: print_grants(r, json, out); break;
    }
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    err << "error: " << msg << '\n';
    return 1;
  }
  return 0;
}

}  // namespace bp::cli
