/// @file
/// @brief basic_queue<Storage, Backoff, Executor>: the job state machine over a storage policy.
#pragma once

#include <algorithm>
#include <exception>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <map>
#include <utility>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/reclaim.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/detail/attempt_verdict.hpp"
#include "queuectl/detail/job_spec_mapping.hpp"
#include "queuectl/detail/queue_refusals.hpp"
#include "queuectl/error.hpp"
#include "queuectl/queue_config.hpp"
#include "queuectl/wake_signal.hpp"

namespace queuectl {

/// @brief A job queue composed at compile time from three policies.
///
/// - `Storage` (storage_policy): where jobs live — memory_storage, sqlite_storage, …
/// - `Backoff` (backoff_policy): wait before a retry — exponential_backoff, …
/// - `Executor` (executor_policy): how one attempt runs — function_executor, plugin_executor, …
///
/// The queue owns the storage (constructed in place from the trailing arguments) and applies
/// the rules of docs/architecture.md §2: a job is attempted at most max(1, max_retries) times; after the
/// n-th failure it waits `backoff.delay(n)` (or the executor's retry_after); a permanent
/// failure or the last attempt makes it dead. Thread-safe when Storage is.
template <storage_policy Storage, backoff_policy Backoff, executor_policy Executor>
class basic_queue {
 public:
  using storage_type = Storage;
  using backoff_type = Backoff;
  using executor_type = Executor;

  /// @param executor   runs attempts
  /// @param backoff    retry delays; if it has `configure(queue_config)`, the persisted
  ///                   config (backoff-base, backoff-max) is applied to it
  /// @param storage_args forwarded to Storage's constructor (e.g. a database path)
  template <class... StorageArgs>
  explicit basic_queue(Executor executor, Backoff backoff, StorageArgs&&... storage_args)
      : storage_(std::forward<StorageArgs>(storage_args)...),
        backoff_(std::move(backoff)),
        executor_(std::move(executor)) {
    reload_config();
  }

  basic_queue(const basic_queue&) = delete;
  basic_queue& operator=(const basic_queue&) = delete;

  // ---- producing ----------------------------------------------------------------------

  /// Adds one job; returns its id (generated when the spec has none).
  std::string enqueue(job_spec spec) {
    std::vector<job_spec> one;
    one.push_back(std::move(spec));
    return enqueue(std::move(one)).front();
  }

  /// Adds many jobs in one transaction: all or none. Returns their ids in order.
  std::vector<std::string> enqueue(std::vector<job_spec> specs) {
    const time_point t = now();
    const queue_config cfg = config();
    std::vector<job> jobs;
    jobs.reserve(specs.size());
    const bool sequential = cfg.job_ids == "sequential";
    for (auto& s : specs) jobs.push_back(detail::job_from_spec(std::move(s), t, cfg, sequential));
    std::vector<std::string> ids;
    ids.reserve(jobs.size());
    if (sequential) {
      storage_.insert_sequential(jobs);  // numbers the jobs without an id
      for (auto& j : jobs) ids.push_back(std::move(j.id));
    } else {
      for (const auto& j : jobs) ids.push_back(j.id);
      storage_.insert(std::move(jobs));  // a storage with insert(vector&&) takes them over
    }
    wake_.notify();
    return ids;
  }

  // ---- consuming ----------------------------------------------------------------------

  /// Atomically leases up to `max_jobs` due jobs to `owner` for lease-seconds: of the
  /// given queues (empty: any) and executors (claim_request::executors; nullopt: any).
  std::vector<job> claim(std::size_t max_jobs, const std::string& owner, std::vector<std::string> queues = {},
                         std::optional<std::vector<std::string>> executors = std::nullopt) {
    const time_point t = now();
    claim_request req;
    req.owner = owner;
    req.max_jobs = max_jobs;
    req.now = t;
    req.lease_until = saturating_add(t, lease_length());
    req.queues = std::move(queues);
    req.executors = std::move(executors);
    return storage_.claim(req);
  }

  /// When the earliest job a claim with these filters could take is (or was) due;
  /// nullopt when none waits. Idle workers sleep until then.
  std::optional<time_point> next_due(std::vector<std::string> queues = {},
                                     std::optional<std::vector<std::string>> executors = std::nullopt) {
    claim_request req;
    req.queues = std::move(queues);
    req.executors = std::move(executors);
    return storage_.next_due(req);
  }

  /// Extends the lease; false when the job was canceled or the lease was lost.
  bool heartbeat(const std::string& id, const std::string& owner) {
    return storage_.renew_lease(id, owner, saturating_add(now(), lease_length()));
  }

  /// Runs one attempt through the executor; an exception becomes a failed attempt.
  attempt_result execute(const job& j, const execution_context& ctx) {
    try {
      return executor_.execute(j, ctx);
    } catch (const std::exception& e) {
      return attempt_result::failure(std::string("executor threw: ") + e.what());
    } catch (...) {
      return attempt_result::failure("executor threw an unknown exception");
    }
  }

  /// Records how a claimed attempt ended and decides what happens next: completed,
  /// failed (retry at now + backoff) or dead. Returns false if `owner` no longer held
  /// the lease (the job was canceled or recovered meanwhile); nothing is written then.
  bool report(const job& j, const std::string& owner, const attempt_result& r) {
    finish_request f = detail::finish_of_attempt(j, owner, r, now(), [this](int n) { return retry_delay(n); });
    const bool written = storage_.finish(f);
    if (written && f.state == job_state::failed) wake_.notify();
    return written;
  }

  /// Hands a claimed job back without counting the attempt (stopping worker).
  bool release(const std::string& id, const std::string& owner) {
    const bool ok = storage_.release(id, owner, now());
    if (ok) wake_.notify();
    return ok;
  }

  /// Puts jobs whose lease lapsed (their worker died) back to pending, or dead at the
  /// max-recoveries-th lapse (0 counts as 1; docs/cli.md, "Config").
  reclaim_result reclaim_expired() {
    const reclaim_result r = reclaim_lapsed(storage_, now(), config().max_recoveries);
    if (r.requeued) wake_.notify();
    return r;
  }

  /// Claims, runs and reports one job for `owner`; false if none was due. No lease
  /// heartbeat is sent: use worker_pool for jobs that may outlive the lease.
  bool run_once(const std::string& owner) {
    auto jobs = claim(1, owner);
    if (jobs.empty()) return false;
    execution_context ctx;
    ctx.worker = owner;
    ctx.attempt = jobs.front().attempts;
    ctx.timeout = effective_timeout(jobs.front());
    ctx.started_at = now();
    report(jobs.front(), owner, execute(jobs.front(), ctx));
    return true;
  }

  // ---- managing -----------------------------------------------------------------------

  /// Cancels a pending, failed or running job. The attempt of a running one is recorded
  /// `canceled` now; its worker_pool stops it on the wake-up (this process: the notify
  /// below; others: the storage's change watch), else at its next heartbeat. Throws
  /// not_found for an unknown id, conflict if already final.
  void cancel(const std::string& id) {
    if (!storage_.cancel(id, now())) throw final_or_missing(id, "cancel");
    wake_.notify();
  }

  /// Moves a dead job back to pending with attempts reset.
  void retry_dead(const std::string& id) {
    if (!storage_.retry_dead(id, now())) {
      auto j = storage_.get(id);
      if (!j) throw detail::job_not_found(id);
      throw detail::job_not_dead(id, j->state);
    }
    wake_.notify();
  }

  /// Deletes a job that is not running.
  void remove(const std::string& id) {
    if (!storage_.remove(id)) {
      if (!storage_.get(id)) throw detail::job_not_found(id);
      throw detail::job_running(id, "cancel it first");
    }
  }

  /// Changes a job that is not running (docs/cli.md, "update") and returns it as stored.
  /// Moves: failed, dead, canceled or completed → pending (attempts start again, as
  /// `dlq retry`); pending or failed → canceled. `check` sees the job as it would be
  /// (the executor plugins' validation); cross-field rules of the codec are applied too.
  /// The storage writes only if the job is still in the state the change was decided on,
  /// so a job a worker claims meanwhile is refused as running, never edited. Throws
  /// not_found; conflict for a running job or a move its state does not allow;
  /// invalid_input for a target state other than pending or canceled. On a throw nothing
  /// is changed.
  job update(const std::string& id, const job_patch& patch,
             const std::function<void(const job_spec&)>& check = {}) {
    detail::check_update_target(patch);
    for (int tries = 0;; ++tries) {
      const job cur = get(id);
      if (cur.state == job_state::processing) throw detail::job_running(id, "cancel it or wait until it finishes");
      job_update u;
      u.id = id;
      u.expected = cur.state;
      u.set = patch;
      if (patch.state == cur.state) u.set.state.reset();  // already there: no move
      if (u.set.state) detail::check_update_move(id, cur.state, *u.set.state);
      if (check || patch.changes_fields()) {
        job_spec s = detail::spec_of(cur);
        detail::apply_patch(s, patch);
        if (s.executor == "shell" && s.command.empty())
          throw invalid_field("command", "required (a non-empty shell command) for the shell executor");
        if (check) check(s);
      }
      u.now = now();
      if (storage_.update_job(u)) {
        if (u.set.state == job_state::pending || u.set.run_at) wake_.notify();
        return get(id);
      }
      // The job changed state between the read and the write (claimed, finished, canceled
      // or deleted): decide again on what it is now. A claim makes the next round refuse it.
      if (tries >= 20) throw detail::update_kept_changing(id);
    }
  }

  /// Deletes every job and its attempts; settings stay. With jobs running (workers hold
  /// their leases) nothing is deleted and result.refused is set, unless `force`: then the
  /// running jobs go too and their workers stop them at their next lease renewal.
  reset_result reset(bool force = false) { return storage_.reset_jobs(force); }

  /// The job, or throws not_found.
  job get(const std::string& id) {
    auto j = storage_.get(id);
    if (!j) throw detail::job_not_found(id);
    return std::move(*j);
  }
  std::optional<job> find(const std::string& id) { return storage_.get(id); }
  std::vector<job> list(const list_filter& f = {}) { return storage_.list(f); }
  state_counts counts() { return storage_.counts(); }
  std::vector<attempt_record> attempts(const std::string& id) { return storage_.attempts(id); }
  std::size_t purge(const purge_filter& f = {}) { return storage_.purge(f); }
  /// Finished attempts since `since` (all when nullopt); storages with attempt_statistics.
  attempt_stats stats(std::optional<time_point> since = std::nullopt)
    requires attempt_statistics<Storage>
  {
    return storage_.stats(since);
  }
  /// Finished attempts per minute since `since`, oldest first, minutes without any left
  /// out: one query on storages with attempts_per_minute, else from stats().
  std::vector<minute_count> finished_per_minute(time_point since)
    requires attempt_statistics<Storage>
  {
    return finished_per_minute_of(storage_, since, now());
  }

  /// Requeues every dead job (attempts and recoveries reset, due now); returns how many.
  /// One statement on the SQL storages (bulk_dead_retry).
  std::size_t retry_dead_all() {
    const std::size_t n = retry_all_dead_of(storage_, now());
    if (n) wake_.notify();
    return n;
  }

  // ---- what the apps read and register (so none reaches past the queue) -------------

  /// Job counts per queue name.
  std::map<std::string, state_counts> counts_by_queue()
    requires counts_per_queue<Storage>
  {
    return storage_.counts_by_queue();
  }
  /// Jobs waiting to run (pending or failed), per executor.
  std::map<std::string, std::size_t> waiting_by_executor() { return storage_.waiting_by_executor(); }
  /// The registered workers (live or not: the caller applies the liveness rule).
  std::vector<worker_info> workers() { return storage_.workers(); }
  /// Registers a worker, or refreshes its row (heartbeat, slots).
  void register_worker(const worker_info& w) { storage_.upsert_worker(w); }
  void unregister_worker(std::string_view id) { storage_.remove_worker(id); }

  /// The effective config and which keys are stored (not defaults), from one storage read;
  /// also refreshes config() and the backoff, as reload_config() does.
  struct config_view {
    queue_config values;
    std::map<std::string, std::string> stored;
  };
  config_view read_config() {
    config_view v;
    v.stored = storage_.config_entries();
    v.values = apply_config(queue_config::from_entries(v.stored));
    return v;
  }

  // ---- configuration ------------------------------------------------------------------

  /// The config as last loaded (call reload_config() to see other processes' changes).
  queue_config config() const {
    std::shared_lock lock(config_mu_);
    return config_;
  }
  /// Re-reads the persisted config and applies it to the backoff policy.
  queue_config reload_config() { return apply_config(queue_config::from_entries(storage_.config_entries())); }
  /// Validates and persists one setting (either key spelling); returns the normalized key.
  std::string set_config(std::string_view key, std::string_view value) {
    queue_config c = config();
    const std::string k = c.set(key, value);  // throws invalid_input before anything is stored
    storage_.set_config(k, c.get(k));
    reload_config();
    return k;
  }
  /// Validates every (key, value) first, then persists them in one storage transaction:
  /// all or nothing. Returns the normalized keys, in the order given; a key given twice
  /// (in either spelling) is invalid_input.
  std::vector<std::string> set_config(const std::vector<std::pair<std::string, std::string>>& settings) {
    queue_config c = config();
    std::map<std::string, std::string> entries;
    std::vector<std::string> keys;
    for (const auto& [key, value] : settings) {
      const std::string k = c.set(key, value);  // throws invalid_input before anything is stored
      if (entries.count(k))
        throw error(error_kind::invalid_input, "queuectl.config.repeated_key", "config " + k + " given twice");
      entries[k] = c.get(k);
      keys.push_back(k);
    }
    storage_.set_config_entries(entries);
    reload_config();
    return keys;
  }
  /// Drops every persisted setting back to its default.
  void reset_config() {
    storage_.reset_config();
    reload_config();
  }

  /// Timeout for an attempt: the job's own, else the default job-timeout.
  /// Clamped to bounds::timeout, so a job stored before the bounds existed stays safe.
  double effective_timeout(const job& j) const {
    return std::min(j.timeout > 0 ? j.timeout : config().job_timeout, bounds::timeout.max);
  }

  milliseconds lease_length() const { return saturating_ms(config().lease_seconds); }
  milliseconds retry_delay(int failed_attempts) const {
    std::shared_lock lock(config_mu_);
    return std::chrono::duration_cast<milliseconds>(backoff_.delay(failed_attempts));
  }

  Storage& storage() noexcept { return storage_; }
  Executor& executor() noexcept { return executor_; }
  /// Signalled on every local enqueue/retry; external watchers may notify it too.
  wake_signal& wake() noexcept { return wake_; }

 private:
  queue_config apply_config(queue_config c) {
    std::unique_lock lock(config_mu_);
    config_ = c;
    if constexpr (configurable_backoff<Backoff, queue_config>) backoff_.configure(c);
    return c;
  }

  error final_or_missing(const std::string& id, const char* what) {
    auto j = storage_.get(id);
    if (!j) return detail::job_not_found(id);
    return detail::job_already_final(id, what, j->state);
  }

  Storage storage_;
  Backoff backoff_;
  Executor executor_;
  mutable std::shared_mutex config_mu_;
  queue_config config_;
  wake_signal wake_;
};

}  // namespace queuectl
