/// @file
/// @brief The statements that are the same SQL for every SOCI storage (SQLite and
/// PostgreSQL), written once: config, workers, counts, removal, purge, dead-letter retry.
/// What differs — claim, bulk insert, migrations, clock, notifications — stays with each
/// backend (docs/architecture.md, "SQLite hot path"; docs/deploy.md for PostgreSQL).
#pragma once

namespace queuectl::detail::sql {

// ---- config (config_store) ------------------------------------------------------------
inline constexpr const char* config_get = "SELECT value FROM config WHERE key = :k";
inline constexpr const char* config_put =
    "INSERT INTO config(key, value) VALUES(:k, :v) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
inline constexpr const char* config_all = "SELECT key, value FROM config";
inline constexpr const char* config_clear = "DELETE FROM config";

// ---- workers (worker_registry); columns as detail::worker_columns -----------------------
inline constexpr const char* worker_put =
    "INSERT INTO workers(id, hostname, pid, slots, started_at, heartbeat_at, executors) "
    "VALUES(:id, :h, :p, :s, :st, :hb, :ex) "
    "ON CONFLICT(id) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid, slots = excluded.slots, "
    "heartbeat_at = excluded.heartbeat_at, executors = excluded.executors";
inline constexpr const char* worker_delete = "DELETE FROM workers WHERE id = :id";
inline constexpr const char* workers_all =
    "SELECT id, hostname, pid, slots, started_at, heartbeat_at, executors FROM workers ORDER BY started_at";

// ---- counts -----------------------------------------------------------------------------
inline constexpr const char* counts_by_state = "SELECT state, COUNT(*) FROM jobs GROUP BY state";
inline constexpr const char* counts_by_queue = "SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state";

// ---- removal and purge ------------------------------------------------------------------
inline constexpr const char* job_delete = "DELETE FROM jobs WHERE id = :id AND state <> 'processing'";
inline constexpr const char* attempts_of_job_delete = "DELETE FROM attempts WHERE job_id = :id";
inline constexpr const char* purge_attempts =
    "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE state = :s AND updated_at < :b)";
inline constexpr const char* purge_jobs = "DELETE FROM jobs WHERE state = :s AND updated_at < :b";

// ---- lapsed leases (the queue decides what becomes of them: reclaim_lapsed) ------------
inline constexpr const char* lapsed_leases =
    "SELECT id, lease_owner, recoveries + 1 FROM jobs WHERE state = 'processing' AND lease_expires_at < :t";

// ---- dead-letter retry ------------------------------------------------------------------
/// Requeues dead jobs (`:t` the time, in the storage's clock); retry_dead appends
/// `AND id = :id`.
inline constexpr const char* retry_dead =
    "UPDATE jobs SET state = 'pending', attempts = 0, recoveries = 0, run_at = :t, updated_at = :t, "
    "exit_code = NULL WHERE state = 'dead'";

// ---- finished attempts (attempt_statistics, finished_per_minute) ------------------------
// `:f` the window's start in the storage's clock; served by the attempts_finished index.
#define QUEUECTL_FINISHED_SINCE \
  " FROM attempts WHERE finished_at IS NOT NULL AND finished_at >= :f AND outcome IN ('succeeded', 'failed', 'timed_out')"
/// Count, successes, first start, last finish, total duration (ms).
inline constexpr const char* finished_totals =
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN outcome = 'succeeded' THEN 1 ELSE 0 END), 0), MIN(started_at), "
    "MAX(finished_at), CAST(COALESCE(SUM(finished_at - started_at), 0) AS DOUBLE PRECISION)" QUEUECTL_FINISHED_SINCE;
/// The durations of the latest `:lim` of them: the percentiles' sample.
inline constexpr const char* finished_recent_durations =
    "SELECT finished_at - started_at" QUEUECTL_FINISHED_SINCE " ORDER BY finished_at DESC LIMIT :lim";
/// Per local minute (`:off` = storage clock - local clock, ms): minute, count, successes.
inline constexpr const char* finished_by_minute =
    "SELECT (finished_at - :off) / 60000, COUNT(*), SUM(CASE WHEN outcome = 'succeeded' THEN 1 ELSE 0 END)" QUEUECTL_FINISHED_SINCE
    " GROUP BY 1 ORDER BY 1";
#undef QUEUECTL_FINISHED_SINCE

}  // namespace queuectl::detail::sql
