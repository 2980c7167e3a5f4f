#pragma once
// The v1 schema of baton-sdk v0.3.15, verbatim from spec section 2.8. The unique indexes are created
// with the tables (INSERT OR IGNORE relies on them; those of the object tables may wait, see below); the
// non-unique ones are built once, by finish() (object_index_sql, then grant_index_sql) unless
// index_objects()/index_grants() built them earlier; much cheaper than maintaining them row by
// row. Readers do not care about creation order. bulk_index reads each index's name, columns and
// stored SQL from these statements (run in an in-memory database), so they stay the only source.
#include <string_view>

namespace bp::c1z::detail {

inline constexpr std::string_view schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS v1_resource_types (
  id INTEGER PRIMARY KEY, external_id TEXT NOT NULL, data BLOB NOT NULL,
  sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS idx_resource_types_external_sync_v1
  ON v1_resource_types (external_id, sync_id);

CREATE TABLE IF NOT EXISTS v1_resources (
  id INTEGER PRIMARY KEY, resource_type_id TEXT NOT NULL, external_id TEXT NOT NULL,
  parent_resource_type_id TEXT, parent_resource_id TEXT, data BLOB NOT NULL,
  sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);

CREATE TABLE IF NOT EXISTS v1_entitlements (
  id INTEGER PRIMARY KEY, resource_type_id TEXT NOT NULL, resource_id TEXT NOT NULL,
  external_id TEXT NOT NULL, data BLOB NOT NULL, sync_id TEXT NOT NULL,
  discovered_at DATETIME NOT NULL);

CREATE TABLE IF NOT EXISTS v1_grants (
  id INTEGER PRIMARY KEY, resource_type_id TEXT NOT NULL, resource_id TEXT NOT NULL,
  entitlement_id TEXT NOT NULL, principal_resource_type_id TEXT NOT NULL,
  principal_resource_id TEXT NOT NULL, external_id TEXT NOT NULL, data BLOB NOT NULL,
  sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);

CREATE TABLE IF NOT EXISTS v1_sync_runs (
  id INTEGER PRIMARY KEY, sync_id TEXT NOT NULL, started_at DATETIME NOT NULL,
  ended_at DATETIME, sync_token TEXT NOT NULL,
  sync_type TEXT NOT NULL DEFAULT 'full', parent_sync_id TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX IF NOT EXISTS idx_sync_runs_sync_id_v1 ON v1_sync_runs (sync_id);

CREATE TABLE IF NOT EXISTS v1_assets (
  id INTEGER PRIMARY KEY, external_id TEXT NOT NULL, content_type TEXT NOT NULL,
  data BLOB NOT NULL, sync_id TEXT NOT NULL, discovered_at DATETIME NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS idx_assets_external_sync_v1
  ON v1_assets (external_id, sync_id);
)sql";

// The unique (external_id, sync_id) indexes of the three large tables: with the tables, unless
// writer_options::ids_unique defers them to finish() (appends without them are much faster than
// random inserts into them).
inline constexpr std::string_view object_unique_index_sql = R"sql(
CREATE UNIQUE INDEX IF NOT EXISTS idx_resources_parent_resource_id_v1
  ON v1_resources (external_id, sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_entitlements_external_sync_v1
  ON v1_entitlements (external_id, sync_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_grants_external_sync_v1
  ON v1_grants (external_id, sync_id);
)sql";

// Every index of resources and entitlements: writer::index_objects() builds them before the grants
// are complete, else finish() does (either skips those already there: IF NOT EXISTS).
inline constexpr std::string_view object_index_sql = R"sql(
CREATE INDEX IF NOT EXISTS idx_resources_resource_type_id_v1
  ON v1_resources (resource_type_id);
CREATE INDEX IF NOT EXISTS idx_resources_external_sync_v1
  ON v1_resources (parent_resource_type_id, parent_resource_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_resources_parent_resource_id_v1
  ON v1_resources (external_id, sync_id);
CREATE INDEX IF NOT EXISTS idx_entitlements_resource_id_v1
  ON v1_entitlements (resource_type_id, resource_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_entitlements_external_sync_v1
  ON v1_entitlements (external_id, sync_id);
)sql";

// Every index of grants: writer::index_grants() builds them when the grants are complete before the
// end of the sync, else finish() does (IF NOT EXISTS, as above).
inline constexpr std::string_view grant_index_sql = R"sql(
CREATE UNIQUE INDEX IF NOT EXISTS idx_grants_external_sync_v1
  ON v1_grants (external_id, sync_id);
CREATE INDEX IF NOT EXISTS idx_grants_resource_type_id_resource_id_v1
  ON v1_grants (resource_type_id, resource_id);
CREATE INDEX IF NOT EXISTS idx_grants_principal_id_v1
  ON v1_grants (principal_resource_type_id, principal_resource_id);
CREATE INDEX IF NOT EXISTS idx_grants_entitlement_id_principal_id_v1
  ON v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id);
)sql";

// The sync_token the Go engine stores after a completed sync without grant expansion (spec 4.3).
inline constexpr std::string_view final_sync_token =
    R"({"actions":[],"current_action":null,"needs_expansion":false,"entitlement_graph":null,)"
    R"("has_external_resource_grants":false,"should_fetch_related_resources":false})";

inline constexpr unsigned char magic[5] = {0x43, 0x31, 0x5A, 0x46, 0x00};

}  // namespace bp::c1z::detail
