/// @file
/// @brief The PostgreSQL schema of postgresql_storage: version check and migrations (DDL).
/// Part of postgresql_storage (include "queuectl/storage/postgresql_storage.hpp").
#pragma once

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <string>

#include "queuectl/error.hpp"
#include "queuectl/storage/detail/pg_pool.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl::detail {

inline constexpr int pg_schema_version = storage_schema_version;
inline constexpr int pg_lock_class = 0x71756575;  // 'queu': first key of the migration advisory lock

/// The schema version recorded in the database; 0 when there is no schema yet. Only
/// reads, so a role without CREATE rights can run it. The catalog is asked by schema
/// name, not through the session's search_path: that is resolved once per transaction,
/// and a schema another host created meanwhile (hosts opening a new database at once)
/// would stay invisible until the next one.
inline int pg_recorded_version(soci::session& sql, const std::string& schema_name) {
  const std::string schema = schema_name;
  int tables = 0;
  sql << "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_version' "
         "AND schemaname = COALESCE(NULLIF(:s, ''), current_schema())",
      soci::use(schema), soci::into(tables);
  if (tables == 0) return 0;
  int version = 0;
  soci::indicator ind = soci::i_null;
  const std::string table = schema.empty() ? "schema_version" : "\"" + schema + "\".schema_version";
  sql << "SELECT MAX(version) FROM " + table, soci::into(version, ind);
  return ind == soci::i_null ? 0 : version;
}

inline void pg_refuse_newer(int version) {
  if (version > pg_schema_version)
    throw error(error_kind::storage, "queuectl.storage.schema_too_new",
                "the database has schema version " + std::to_string(version) + "; this queuectl understands up to " +
                    std::to_string(pg_schema_version) + ": upgrade queuectl");
}

/// Creates or upgrades the schema, one version step at a time. Hosts starting together
/// serialize on an advisory lock (per schema), so the DDL never races.
inline void pg_upgrade(soci::session& sql, const std::string& schema_name) {
  pg_txn tx(sql);
  const std::string schema = schema_name;
  int locked = 0;
  sql << "SELECT 1 FROM (SELECT pg_advisory_xact_lock(:cls, hashtext(COALESCE(NULLIF(:s, ''), current_schema())))) x",
      soci::use(pg_lock_class), soci::use(schema), soci::into(locked);
  const int version = pg_recorded_version(sql, schema_name);  // again, under the lock: another host may have migrated
  pg_refuse_newer(version);
  if (version == pg_schema_version) return;  // rolled back: nothing was written
  if (!schema.empty()) {                     // CREATE SCHEMA needs CREATE on the database even when the schema exists
    int exists = 0;
    sql << "SELECT COUNT(*) FROM pg_namespace WHERE nspname = :s", soci::use(schema), soci::into(exists);
    if (exists == 0) sql << "CREATE SCHEMA \"" + schema + "\"";
  }
  sql << "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)";
  if (version < 1) {
    sql << "CREATE TABLE IF NOT EXISTS jobs("
           "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE, command TEXT NOT NULL, "
           "executor TEXT NOT NULL, payload TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL, "
           "attempts INTEGER NOT NULL DEFAULT 0, recoveries INTEGER NOT NULL DEFAULT 0, "
           "attempt_seq INTEGER NOT NULL DEFAULT 0, max_retries INTEGER NOT NULL, priority INTEGER NOT NULL, "
           "run_at BIGINT NOT NULL, timeout DOUBLE PRECISION NOT NULL, env TEXT NOT NULL, cwd TEXT NOT NULL, "
           "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '', "
           "exit_code INTEGER, lease_owner TEXT NOT NULL DEFAULT '', lease_expires_at BIGINT)";
    // Only claimable jobs are in the claim index, in claim order: finished history does
    // not slow claims down and no sort is needed.
    sql << "CREATE INDEX IF NOT EXISTS jobs_claim ON jobs(priority DESC, run_at, seq) WHERE state IN ('pending', "
           "'failed')";
    sql << "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, seq)";
    sql << "CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(queue, seq)";
    sql << "CREATE INDEX IF NOT EXISTS jobs_lease ON jobs(lease_expires_at) WHERE state = 'processing'";
    sql << "CREATE INDEX IF NOT EXISTS jobs_updated ON jobs(state, updated_at)";
    sql << "CREATE TABLE IF NOT EXISTS attempts(job_id TEXT NOT NULL, number INTEGER NOT NULL, worker TEXT NOT NULL, "
           "started_at BIGINT NOT NULL, finished_at BIGINT, outcome TEXT NOT NULL, exit_code INTEGER, "
           "output TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', PRIMARY KEY(job_id, number))";
    sql << "CREATE INDEX IF NOT EXISTS attempts_finished ON attempts(finished_at) WHERE finished_at IS NOT NULL";
    sql << "CREATE TABLE IF NOT EXISTS config(key TEXT PRIMARY KEY, value TEXT NOT NULL)";
    sql << "CREATE TABLE IF NOT EXISTS workers(id TEXT PRIMARY KEY, hostname TEXT NOT NULL, pid BIGINT NOT NULL, "
           "slots INTEGER NOT NULL, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)";
    const int v = 1;
    sql << "INSERT INTO schema_version(version) VALUES(:v)", soci::use(v);
  }
  if (version < 2) {  // executor-aware claims: workers record the executors they claim for (NULL: any)
    sql << "ALTER TABLE workers ADD COLUMN IF NOT EXISTS executors TEXT";
    const int v = 2;
    sql << "INSERT INTO schema_version(version) VALUES(:v)", soci::use(v);
  }
  if (version < 3) {  // sequential job ids (config job-ids): the last number given, per counter
    sql << "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value BIGINT NOT NULL)";
    sql << "INSERT INTO counters(name, value) VALUES('job-ids', 0) ON CONFLICT (name) DO NOTHING";
    const int v = 3;
    sql << "INSERT INTO schema_version(version) VALUES(:v)", soci::use(v);
  }
  tx.commit();
}

/// Checks the schema version first and runs DDL only when a migration is due, so the
/// least-privilege role of docs/deploy.md (SELECT, INSERT, UPDATE, DELETE) can open a
/// database its owner created or upgraded (`queuectl migrate`).
inline void pg_migrate(soci::session& sql, const std::string& schema_name) {
  const int found = pg_recorded_version(sql, schema_name);
  pg_refuse_newer(found);
  if (found == pg_schema_version) return;
  try {
    pg_upgrade(sql, schema_name);
  } catch (const soci::soci_error& e) {
    auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e);
    if (pe == nullptr || pe->sqlstate() != "42501") throw;  // insufficient_privilege only
    throw error(error_kind::storage, "queuectl.storage.migration_needed",
                "the database schema is at version " + std::to_string(found) + " and this queuectl needs version " +
                    std::to_string(pg_schema_version) + ", but this role may not change it (" +
                    pg_server_reason(pg_message(e)) + "): run `queuectl migrate` once as the schema's owner");
  }
}

}  // namespace queuectl::detail
