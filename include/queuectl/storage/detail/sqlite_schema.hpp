/// @file
/// @brief The SQLite storage's schema: each version's step, applied in order by
/// sqlite_storage's migration (docs/architecture.md, "SQLite hot path").
#pragma once

#include <soci/soci.h>

namespace queuectl::detail {

/// Brings a database at schema `version` (0: empty) to sqlite_schema_version, inside the
/// caller's write transaction; each step records its version in `schema_version`.
inline void sqlite_schema_steps(soci::session& sql, int version) {
  if (version < 1) {  // the version-1 schema; later versions change it step by step below
    sql << "CREATE TABLE jobs("
           "seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, command TEXT NOT NULL, "
           "executor TEXT NOT NULL, payload TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL, "
           "attempts INTEGER NOT NULL DEFAULT 0, recoveries INTEGER NOT NULL DEFAULT 0, "
           "attempt_seq INTEGER NOT NULL DEFAULT 0, max_retries INTEGER NOT NULL, priority INTEGER NOT NULL, "
           "run_at BIGINT NOT NULL, timeout REAL NOT NULL, env TEXT NOT NULL, cwd TEXT NOT NULL, "
           "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '', "
           "exit_code INTEGER, lease_owner TEXT NOT NULL DEFAULT '', lease_expires_at BIGINT)";
    // Only claimable jobs are in the claim index, so history does not slow claims down;
    // the claim names it (INDEXED BY) so the planner cannot prefer a state index + sort.
    sql << "CREATE INDEX jobs_claim ON jobs(priority DESC, run_at, seq) WHERE state IN ('pending', 'failed')";
    sql << "CREATE INDEX jobs_state ON jobs(state, seq)";
    sql << "CREATE INDEX jobs_queue ON jobs(queue, seq)";
    sql << "CREATE INDEX jobs_lease ON jobs(lease_expires_at) WHERE state = 'processing'";
    sql << "CREATE INDEX jobs_updated ON jobs(state, updated_at)";
    sql << "CREATE TABLE attempts(job_id TEXT NOT NULL, number INTEGER NOT NULL, worker TEXT NOT NULL, "
           "started_at BIGINT NOT NULL, finished_at BIGINT, outcome TEXT NOT NULL, exit_code INTEGER, "
           "output TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', PRIMARY KEY(job_id, number)) WITHOUT "
           "ROWID";
    sql << "CREATE INDEX attempts_finished ON attempts(finished_at) WHERE finished_at IS NOT NULL";
    sql << "CREATE TABLE config(key TEXT PRIMARY KEY, value TEXT NOT NULL)";
    sql << "CREATE TABLE workers(id TEXT PRIMARY KEY, hostname TEXT NOT NULL, pid BIGINT NOT NULL, "
           "slots INTEGER NOT NULL, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)";
    sql << "INSERT INTO schema_version(version) VALUES(1)";
  }
  if (version < 2) {
    // Executor-aware claims: workers record the executors they claim for (NULL: any),
    // and the claim index carries `executor` so the claim's executor test reads the
    // index only.
    sql << "ALTER TABLE workers ADD COLUMN executors TEXT";
    sql << "DROP INDEX jobs_claim";
    sql << "CREATE INDEX jobs_claim ON jobs(priority DESC, run_at, seq, executor) WHERE state IN ('pending', 'failed')";
    sql << "INSERT INTO schema_version(version) VALUES(2)";
  }
  if (version < 3) {
    // Sequential job ids (config job-ids): the last number given, one row per counter.
    sql << "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL)";
    sql << "INSERT INTO counters(name, value) VALUES('job-ids', 0)";
    sql << "INSERT INTO schema_version(version) VALUES(3)";
  }
  if (version < 4) {
    // The lean hot path: the running attempt moves onto the job row (its record is
    // written once, when it ends), and no index keyed on updated_at or state is
    // rewritten by every transition (purge and state lists scan; see
    // docs/architecture.md, "SQLite hot path").
    sql << "ALTER TABLE jobs ADD COLUMN attempt_started_at BIGINT";
    sql << "UPDATE jobs SET attempt_started_at = (SELECT a.started_at FROM attempts a WHERE a.job_id = jobs.id AND "
           "a.outcome = 'running' ORDER BY a.number DESC LIMIT 1) WHERE state = 'processing'";
    sql << "DELETE FROM attempts WHERE outcome = 'running'";
    sql << "DROP INDEX IF EXISTS jobs_updated";
    sql << "DROP INDEX IF EXISTS jobs_state";
    sql << "INSERT INTO schema_version(version) VALUES(4)";
  }
}

}  // namespace queuectl::detail
