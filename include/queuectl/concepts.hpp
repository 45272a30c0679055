/// @file
/// @brief The three extension points of basic_queue, each a named concept.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/execution_context.hpp"
#include "queuectl/job.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl {

/// @brief The jobs and their attempts: the lifecycle and the queries basic_queue needs.
/// Every operation is atomic; `claim` never hands one job to two owners. Errors are
/// thrown as queuectl::error.
template <class S>
concept job_store =
    requires(S& s, const std::vector<job>& jobs, std::vector<job>& numbered, const claim_request& claim,
             const finish_request& finish, const list_filter& filter, const purge_filter& purge,
             const job_update& update, const lapse_recovery& recovery, std::string_view job_id,
             std::string_view owner, time_point t, bool force) {
      { s.insert(jobs) } -> std::same_as<void>;  // one transaction; duplicate id: error_kind::conflict
      // As insert; each job with an empty id first gets the next free `job<N>` (N from a
      // counter the storage keeps, incremented in the same transaction; ids in use are
      // skipped), written back into `numbered`. Unique across processes and hosts.
      { s.insert_sequential(numbered) } -> std::same_as<void>;
      { s.claim(claim) } -> std::same_as<std::vector<job>>;
      // Earliest run_at of a job `claim` could take (its queue and executor filters; its
      // `now` is ignored); nullopt when none waits. Idle workers sleep until then.
      { s.next_due(claim) } -> std::same_as<std::optional<time_point>>;
      { s.renew_lease(job_id, owner, t) } -> std::same_as<bool>;  // false: lease lost or job canceled
      { s.finish(finish) } -> std::same_as<bool>;  // false: the owner no longer holds the lease
      { s.release(job_id, owner, t) } -> std::same_as<bool>;  // hand back, attempt not counted
      // Running jobs whose lease expired before t (the queue decides what becomes of
      // them: reclaim_lapsed), and the transition it decided, written only if the job is
      // still running under that lapsed lease.
      { s.lapsed_leases(t) } -> std::same_as<std::vector<lapsed_lease>>;
      { s.recover_lapsed(recovery) } -> std::same_as<bool>;
      { s.cancel(job_id, t) } -> std::same_as<bool>;
      { s.retry_dead(job_id, t) } -> std::same_as<bool>;
      { s.remove(job_id) } -> std::same_as<bool>;  // delete a job that is not processing
      // Applies update.set in one atomic step if the job is in update.expected (which is
      // never processing); false (nothing written) otherwise or for an unknown id.
      { s.update_job(update) } -> std::same_as<bool>;
      // Deletes every job and attempt record (config, workers and the id counter stay), in
      // one atomic step: refused (nothing deleted) when a job is processing, unless force.
      { s.reset_jobs(force) } -> std::same_as<reset_result>;
      { s.get(job_id) } -> std::same_as<std::optional<job>>;
      { s.list(filter) } -> std::same_as<std::vector<job>>;
      { s.counts() } -> std::same_as<state_counts>;
      // Jobs waiting to run (pending or failed), per executor: what `status` compares with
      // the executors of the live workers.
      { s.waiting_by_executor() } -> std::same_as<std::map<std::string, std::size_t>>;
      { s.attempts(job_id) } -> std::same_as<std::vector<attempt_record>>;
      { s.purge(purge) } -> std::same_as<std::size_t>;
    };

/// @brief The persisted settings (docs/cli.md, "Config"): a key–value store.
template <class S>
concept config_store = requires(S& s, std::string_view key, std::string_view value,
                                const std::map<std::string, std::string>& entries) {
  { s.get_config(key) } -> std::same_as<std::optional<std::string>>;
  { s.set_config(key, value) } -> std::same_as<void>;
  // Several settings in one transaction: all are stored or none (`config set --KEY …`).
  { s.set_config_entries(entries) } -> std::same_as<void>;
  { s.config_entries() } -> std::same_as<std::map<std::string, std::string>>;
  { s.reset_config() } -> std::same_as<void>;
};

/// @brief The hosts and processes that run workers (status, the dashboard's Workers).
template <class S>
concept worker_registry = requires(S& s, const worker_info& worker, std::string_view worker_id) {
  { s.upsert_worker(worker) } -> std::same_as<void>;
  { s.remove_worker(worker_id) } -> std::same_as<void>;
  { s.workers() } -> std::same_as<std::vector<worker_info>>;
};

/// @brief Where jobs live: exactly what basic_queue needs of a storage.
///
/// Implementations: memory_storage (in-process), sqlite_storage (SOCI-SQLite, many
/// processes), postgresql_storage (SOCI-PostgreSQL, many hosts), any_storage (chosen at run
/// time). Each passes queuectl/testing/storage_contract.hpp.
template <class S>
concept storage_policy = job_store<S> && config_store<S> && worker_registry<S>;

/// @brief Optional storage capability: success/failure counts and durations of finished
/// attempts (basic_queue::stats, the dashboard, `metrics`).
template <class S>
concept attempt_statistics = requires(S& s, std::optional<time_point> since) {
  { s.stats(since) } -> std::same_as<attempt_stats>;
};

/// @brief Optional storage capability: job counts per queue and state.
template <class S>
concept counts_per_queue = requires(S& s) {
  { s.counts_by_queue() } -> std::same_as<std::map<std::string, state_counts>>;
};

/// @brief Optional storage capability: requeue every dead job in one step (one statement
/// in the SQL storages); returns how many. Without it basic_queue retries them one by one.
template <class S>
concept bulk_dead_retry = requires(S& s, time_point t) {
  { s.retry_all_dead(t) } -> std::convertible_to<std::size_t>;
};

/// The dead jobs of `s` requeued at `t`: in one step where `s` can, else one by one (a job
/// deleted or retried meanwhile by another process is not counted).
template <storage_policy S>
std::size_t retry_all_dead_of(S& s, time_point t) {
  if constexpr (bulk_dead_retry<S>) {
    return s.retry_all_dead(t);
  } else {
    list_filter f;
    f.state = job_state::dead;
    f.limit = 0;
    std::size_t n = 0;
    for (const auto& j : s.list(f))
      if (s.retry_dead(j.id, t)) ++n;
    return n;
  }
}

/// @brief Optional storage capability: finished attempts per minute since a time, in one
/// query (one GROUP BY in the SQL storages): the dashboard's throughput chart.
template <class S>
concept attempts_per_minute = requires(S& s, time_point since) {
  { s.finished_per_minute(since) } -> std::same_as<std::vector<minute_count>>;
};

/// Finished attempts per minute from `since` until `now`, oldest first, minutes without
/// any left out: one query where `s` can, else from stats() at every minute boundary.
template <class S>
  requires attempt_statistics<S>
std::vector<minute_count> finished_per_minute_of(S& s, time_point since, time_point now) {
  if constexpr (attempts_per_minute<S>) {
    return s.finished_per_minute(since);
  } else {
    constexpr std::int64_t minute_ms = 60'000;
    std::vector<minute_count> out;
    const std::int64_t first = to_ms(since) / minute_ms, last = to_ms(now) / minute_ms;
    attempt_stats after = s.stats(since);  // finished at or after the current boundary
    for (std::int64_t m = first; m <= last && after.finished > 0; ++m) {
      const attempt_stats next = s.stats(from_ms((m + 1) * minute_ms));
      const minute_count c{m, after.succeeded - std::min(after.succeeded, next.succeeded),
                           after.failed - std::min(after.failed, next.failed)};
      if (c.succeeded + c.failed > 0) out.push_back(c);
      after = next;
    }
    return out;
  }
}

/// @brief How long to wait before the next attempt after the n-th failed one (n ≥ 1).
template <class B>
concept backoff_policy = std::copy_constructible<B> && requires(const B& b, int failed_attempts) {
  { b.delay(failed_attempts) } -> std::convertible_to<milliseconds>;
};

/// @brief Runs one attempt of a job and reports how it went. Must not throw for a job
/// that fails (report it); a throw is still caught by the worker and counted as a failure.
template <class E>
concept executor_policy = requires(E& e, const job& j, const execution_context& ctx) {
  { e.execute(j, ctx) } -> std::same_as<attempt_result>;
};

/// @brief A backoff policy that can take its parameters from the persisted queue config.
template <class B, class Config>
concept configurable_backoff = backoff_policy<B> && requires(B& b, const Config& c) { b.configure(c); };

}  // namespace queuectl
