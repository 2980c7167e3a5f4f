#pragma once
// Scripted tasks for the fake: built from short names so tests and the fake-c1 command line share
// one vocabulary.
//
// Names: none, hello, sync_full, grant, grant_empty (no payload: malformed), revoke, create_account,
// create_resource, delete_resource, rotate_credentials, event_feed, create_sync_diff,
// issue_credential, unset (the oneof left empty).
// sync_full options follow the name, separated by ':':
//   skip_expand_grants, skip_entitlements_and_grants, skip_grants, types=user+course,
//   storage_engine=sqlite, debug (sets Task.debug)
// e.g. "sync_full:skip_grants:types=user+course".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "c1/connectorapi/baton/v1/baton.pb.h"

namespace bp::fake_c1 {

namespace v1 = c1::connectorapi::baton::v1;

// 27 random characters from [A-Za-z0-9], like ConductorOne's task ids.
std::string new_task_id();

// One task from a name with options, with a fresh id; nullopt (and `error` set) when unknown.
std::optional<v1::Task> make_task(std::string_view spec, std::string* error = nullptr);
// Comma-separated specs ("sync_full,hello,grant,event_feed"); throws std::invalid_argument.
std::vector<v1::Task> parse_task_list(std::string_view specs);

// The oneof member's name ("sync_full", "grant", ...), "unset" when empty.
std::string task_type_name(const v1::Task& task);

}  // namespace bp::fake_c1
