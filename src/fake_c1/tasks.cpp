#include "baton_percipio/fake_c1/tasks.hpp"

#include <stdexcept>

#include "crypto.hpp"

namespace bp::fake_c1 {
namespace {

namespace v2 = c1::connector::v2;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return out;
    s.remove_prefix(p + 1);
  }
}

void set_resource_id(v2::ResourceId* id, const char* type, const char* value) {
  id->set_resource_type(type);
  id->set_resource(value);
}

// A grant of "completed" on a course to a user: a well-formed provisioning payload.
void fill_entitlement(v2::Entitlement* e) {
  set_resource_id(e->mutable_resource()->mutable_id(), "course", "fake-course-1");
  e->set_id("course:fake-course-1:completed");
  e->set_slug("completed");
}

bool apply_sync_option(v1::Task& task, std::string_view opt, std::string* error) {
  auto* full = task.mutable_sync_full();
  auto eq = opt.find('=');
  auto name = opt.substr(0, eq);
  auto value = eq == std::string_view::npos ? std::string_view{} : opt.substr(eq + 1);
  if (opt == "skip_expand_grants") {
    full->set_skip_expand_grants(true);
  } else if (opt == "skip_entitlements_and_grants") {
    full->set_skip_entitlements_and_grants(true);
  } else if (opt == "skip_grants") {
    full->set_skip_grants(true);
  } else if (opt == "debug") {
    task.set_debug(true);
  } else if (name == "types" && !value.empty()) {
    for (auto t : split(value, '+')) {
      if (!t.empty()) full->add_sync_resource_type_ids(std::string(t));
    }
  } else if (name == "storage_engine") {
    full->set_storage_engine(std::string(value));
  } else {
    if (error != nullptr) *error = "unknown sync_full option '" + std::string(opt) + "'";
    return false;
  }
  return true;
}

}  // namespace

std::string new_task_id() { return detail::random_alnum(27); }

std::optional<v1::Task> make_task(std::string_view spec, std::string* error) {
  auto parts = split(spec, ':');
  std::string_view name = parts.front();
  v1::Task task;
  task.set_id(new_task_id());
  task.set_status(v1::Task::STATUS_PENDING);
  if (name == "none") {
    task.mutable_none();
  } else if (name == "hello") {
    task.mutable_hello();
  } else if (name == "sync_full") {
    task.mutable_sync_full();
    for (std::size_t i = 1; i < parts.size(); ++i) {
      if (!apply_sync_option(task, parts[i], error)) return std::nullopt;
    }
    return task;
  } else if (name == "grant") {
    auto* g = task.mutable_grant();
    fill_entitlement(g->mutable_entitlement());
    set_resource_id(g->mutable_principal()->mutable_id(), "user", "fake-user-1");
  } else if (name == "grant_empty") {
    task.mutable_grant();
  } else if (name == "revoke") {
    auto* g = task.mutable_revoke()->mutable_grant();
    fill_entitlement(g->mutable_entitlement());
    set_resource_id(g->mutable_principal()->mutable_id(), "user", "fake-user-1");
    g->set_id("course:fake-course-1:completed:user:fake-user-1");
  } else if (name == "create_account") {
    task.mutable_create_account()->set_resource_type_id("user");
  } else if (name == "create_resource") {
    set_resource_id(task.mutable_create_resource()->mutable_resource()->mutable_id(), "course", "fake-course-2");
  } else if (name == "delete_resource") {
    set_resource_id(task.mutable_delete_resource()->mutable_resource_id(), "course", "fake-course-2");
  } else if (name == "rotate_credentials") {
    set_resource_id(task.mutable_rotate_credentials()->mutable_resource_id(), "user", "fake-user-1");
  } else if (name == "event_feed") {
    task.mutable_event_feed()->mutable_start_at()->set_seconds(1'700'000'000);
  } else if (name == "create_sync_diff") {
    task.mutable_create_sync_diff()->set_base_sync_id("base");
  } else if (name == "issue_credential") {
    task.mutable_issue_credential();
  } else if (name == "unset") {
    // the oneof stays empty: a task type the client cannot know
  } else {
    if (error != nullptr) *error = "unknown task type '" + std::string(name) + "'";
    return std::nullopt;
  }
  if (parts.size() > 1) {
    if (error != nullptr) *error = "options are only known for sync_full";
    return std::nullopt;
  }
  return task;
}

std::vector<v1::Task> parse_task_list(std::string_view specs) {
  std::vector<v1::Task> out;
  if (specs.empty()) return out;
  for (auto spec : split(specs, ',')) {
    std::string error;
    auto t = make_task(spec, &error);
    if (!t) throw std::invalid_argument(error);
    out.push_back(std::move(*t));
  }
  return out;
}

std::string task_type_name(const v1::Task& task) {
  if (task.task_type_case() == v1::Task::TASK_TYPE_NOT_SET) return "unset";
  const auto* field = v1::Task::descriptor()->FindFieldByNumber(static_cast<int>(task.task_type_case()));
  return field != nullptr ? field->name() : "unknown";
}

}  // namespace bp::fake_c1
