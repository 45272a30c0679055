/// @file
/// @brief Value types exchanged with storage policies (requests, filters, results).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/job.hpp"
#include "queuectl/time.hpp"

namespace queuectl {

/// The version of the tables the PostgreSQL storage writes (each storage records its
/// version in its database and upgrades older ones: docs/deploy.md, "Roles and migrations").
inline constexpr int storage_schema_version = 3;
/// The version of the SQLite storage's tables: 4 keeps the running attempt on the job row
/// (docs/architecture.md, "SQLite hot path").
inline constexpr int sqlite_schema_version = 4;

/// @brief Ask storage for up to `max_jobs` due jobs, atomically leased to `owner`.
///
/// Due: state pending or failed, run_at <= now. Order: priority desc, run_at, seq.
/// Each claimed job becomes processing, attempts += 1, lease_owner = owner,
/// lease_expires_at = lease_until, and an attempt record (outcome running) is opened.
struct claim_request {
  std::string owner;
  std::size_t max_jobs = 1;
  time_point now{};
  time_point lease_until{};
  std::vector<std::string> queues;  ///< empty: every queue
  /// The executors the claimer can run: only jobs whose `executor` is listed are claimed,
  /// so a job for an executor this host lacks stays pending for a host that has it
  /// (docs/deploy.md, "Hosts with different plugins"). nullopt (the default): any
  /// executor, for programs whose executor runs every job. An empty list claims nothing
  /// (a host that loaded only exporter plugins).
  std::optional<std::vector<std::string>> executors;
};

/// True when `executors` (claim_request::executors, worker_info::executors) covers
/// `executor`: nullopt covers every executor.
inline bool covers_executor(const std::optional<std::vector<std::string>>& executors, std::string_view executor) {
  return !executors || std::find(executors->begin(), executors->end(), executor) != executors->end();
}

/// @brief How a claimed attempt ended: written only if `owner` still holds the lease.
struct finish_request {
  std::string id;
  std::string owner;
  job_state state = job_state::completed;  ///< completed, failed or dead
  time_point now{};
  time_point run_at{};  ///< next attempt time when state == failed
  attempt_outcome outcome = attempt_outcome::succeeded;
  std::optional<int> exit_code;
  std::string last_error;
  std::string output;
};

/// @brief What to change in a job that is not running (`queuectl update`, `PATCH
/// /api/jobs/{id}`: docs/cli.md, "update"). Unset fields keep their value.
struct job_patch {
  std::optional<std::string> command;
  std::optional<std::string> executor;
  std::optional<std::string> payload;  ///< a JSON object, compact
  std::optional<std::string> queue;
  std::optional<int> priority;
  std::optional<int> max_retries;
  std::optional<time_point> run_at;
  std::optional<double> timeout;
  std::optional<std::map<std::string, std::string>> env;
  std::optional<std::string> cwd;
  /// The state to move to: pending (attempts and recoveries start again from 0, exit
  /// code cleared, run_at now unless given: what `dlq retry` does) or canceled.
  /// Unset, or the job's own state: no move.
  std::optional<job_state> state;

  bool changes_fields() const {
    return command || executor || payload || queue || priority || max_retries || run_at || timeout || env || cwd;
  }
};

/// @brief A job_patch for storage: written only while the job is still in `expected`,
/// the state the change was decided on (never processing), in one atomic step, so a
/// worker claiming the job meanwhile makes the update fail instead of editing a running job.
struct job_update {
  std::string id;
  job_state expected = job_state::pending;
  time_point now{};
  job_patch set;
};

/// @brief Result of deleting every job (`queuectl reset`).
struct reset_result {
  bool refused = false;     ///< jobs were running and force was not given: nothing deleted
  std::size_t running = 0;  ///< jobs processing when it was decided
  std::size_t deleted = 0;  ///< jobs deleted (their attempts went with them)
};

/// The prefix of sequential job ids (`config set job-ids sequential`): job1, job2, …
inline constexpr std::string_view sequential_id_prefix = "job";

/// @brief Filter and page for `list`.
struct list_filter {
  std::optional<job_state> state;
  std::optional<std::string> queue;
  std::optional<std::string> executor;
  /// Jobs whose id, command or last error contains this, ignoring ASCII case ("" : all).
  std::string text;
  std::size_t limit = 100;  ///< 0: no limit
  std::size_t offset = 0;
  /// Newest first (seq desc) when true; oldest first otherwise.
  bool newest_first = false;
  /// Only jobs with min_seq <= seq <= max_seq: keyset paging (the next page starts past
  /// the last seq seen, so it costs the same however deep it is) and bounded scans.
  std::optional<std::int64_t> min_seq;
  std::optional<std::int64_t> max_seq;
};

/// ASCII lower case: what list_filter::text matching folds, the same in every storage.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Whether job `j` passes `f`'s state, queue, executor, text and seq filters (the
/// in-memory form of the SQL storages' WHERE).
inline bool matches(const list_filter& f, const job& j) {
  if (f.state && j.state != *f.state) return false;
  if (f.queue && j.queue != *f.queue) return false;
  if (f.executor && j.executor != *f.executor) return false;
  if ((f.min_seq && j.seq < *f.min_seq) || (f.max_seq && j.seq > *f.max_seq)) return false;
  if (f.text.empty()) return true;
  const std::string needle = ascii_lower(f.text);
  return ascii_lower(j.id).find(needle) != std::string::npos || ascii_lower(j.command).find(needle) != std::string::npos ||
         ascii_lower(j.last_error).find(needle) != std::string::npos;
}

/// @brief Delete finished jobs (and their attempts).
struct purge_filter {
  /// States to purge; must all be final (completed, dead, canceled).
  std::vector<job_state> states = {job_state::completed, job_state::dead, job_state::canceled};
  std::optional<time_point> updated_before;
};

/// @brief Counts indexed by job_state.
using state_counts = std::array<std::size_t, 6>;

inline std::size_t& at(state_counts& c, job_state s) { return c[static_cast<int>(s)]; }
inline std::size_t at(const state_counts& c, job_state s) { return c[static_cast<int>(s)]; }

/// @brief A running job whose lease lapsed (its worker died or stalled): what
/// job_store::lapsed_leases reports, for the queue to decide what becomes of it.
struct lapsed_lease {
  std::string id;
  std::string owner;  ///< the lease owner, `host:pid:suffix/slot`
  int lapses = 0;     ///< how many times its lease has lapsed, this one included
};

/// @brief What the queue decided for one lapsed lease (job_store::recover_lapsed): back
/// to pending, or dead; the attempt is recorded `lost` with `attempt_error`.
struct lapse_recovery {
  std::string id;
  std::string owner;  ///< must still hold the (lapsed) lease, or nothing is written
  time_point now{};
  int lapses = 0;  ///< stored as the job's recoveries
  bool dead = false;
  std::string attempt_error;
  std::string dead_error;  ///< the job's last_error when dead
};

/// @brief Result of reclaiming jobs whose lease lapsed.
struct reclaim_result {
  std::size_t requeued = 0;  ///< back to pending
  std::size_t dead = 0;      ///< recovered too often
};

/// @brief A registered worker process (host) and its slots.
struct worker_info {
  std::string id;  ///< unique per process, e.g. host:pid:start
  std::string hostname;
  std::int64_t pid = 0;
  int slots = 0;
  time_point started_at{};
  time_point heartbeat_at{};
  /// The executors its workers claim jobs for (claim_request::executors); nullopt: any
  /// (a program that does not say, or a row written before schema version 2).
  std::optional<std::vector<std::string>> executors;
};

/// @brief Aggregates over finished attempts, for `metrics`.
struct attempt_stats {
  std::size_t finished = 0;
  std::size_t succeeded = 0;
  std::size_t failed = 0;  ///< failed + timed_out
  double mean_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  std::optional<time_point> first_started;
  std::optional<time_point> last_finished;
};

/// @brief Finished attempts of one minute (finished_per_minute).
struct minute_count {
  std::int64_t minute = 0;  ///< minutes since the epoch (finish time / 60 s), local clock
  std::size_t succeeded = 0;
  std::size_t failed = 0;  ///< failed + timed_out
  bool operator==(const minute_count&) const = default;
};

/// The percentiles of attempt_stats are taken over at most this many of the window's
/// latest finished attempts, so that a stats call loads a bounded number of durations
/// however long the window; its counts and mean cover the whole window.
inline constexpr std::size_t percentile_sample = 10000;

/// Fills the duration fields of `s` (mean and nearest-rank p50/p95/p99) from the attempts'
/// durations in milliseconds, in any order. Every storage summarizes the same way.
inline void summarize_durations(attempt_stats& s, std::vector<double> durations) {
  if (durations.empty()) return;
  std::sort(durations.begin(), durations.end());
  double total = 0;
  for (double d : durations) total += d;
  const auto pct = [&](double p) {
    const auto idx = static_cast<std::size_t>(p * static_cast<double>(durations.size() - 1) + 0.5);
    return durations[std::min(idx, durations.size() - 1)];
  };
  s.mean_ms = total / static_cast<double>(durations.size());
  s.p50_ms = pct(0.50);
  s.p95_ms = pct(0.95);
  s.p99_ms = pct(0.99);
}

}  // namespace queuectl
