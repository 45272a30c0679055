/// @file
/// @brief In-process storage: fast, no persistence. The mutex is a template parameter.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/detail/null_mutex.hpp"
#include "queuectl/error.hpp"
#include "queuectl/storage/detail/memory_attempt_log.hpp"
#include "queuectl/storage/detail/memory_job_table.hpp"

namespace queuectl {

/// @brief Keeps jobs in memory; every operation holds `Mutex` (spdlog style:
/// `memory_storage_mt` for many threads, `memory_storage_st` for one).
///
/// A claim costs O(log n) however many jobs wait in the future: claimable jobs sit in ordered
/// indexes (detail::memory_job_table); attempt records in detail::memory_attempt_log.
template <class Mutex>
class memory_storage {
 public:
  memory_storage() = default;
  memory_storage(const memory_storage&) = delete;
  memory_storage& operator=(const memory_storage&) = delete;

  void insert(const std::vector<job>& jobs) {
    std::lock_guard lock(mu_);
    insert_locked(jobs);
  }
  /// As insert(const&), moving the jobs in (basic_queue::enqueue hands its batch over).
  void insert(std::vector<job>&& jobs) {
    std::lock_guard lock(mu_);
    insert_locked(std::move(jobs));
  }

  void insert_sequential(std::vector<job>& jobs) {
    std::lock_guard lock(mu_);
    std::unordered_set<std::string> taken;  // ids of this batch (given ones included)
    for (const job& j : jobs)
      if (!j.id.empty()) taken.insert(j.id);
    std::int64_t counter = id_counter_;
    for (job& j : jobs) {
      if (!j.id.empty()) continue;
      do j.id = std::string(sequential_id_prefix) + std::to_string(++counter);
      while (jobs_.contains(j.id) || taken.count(j.id));
      taken.insert(j.id);
    }
    insert_locked(jobs);  // throws before anything is stored: the counter stays too
    id_counter_ = counter;
  }

  std::vector<job> claim(const claim_request& req) {
    std::lock_guard lock(mu_);
    jobs_.promote_due(to_ms(req.now));
    std::vector<job> out;
    jobs_.take_due(req, [&](job& j) {
      j.state = job_state::processing;
      j.attempts += 1;
      j.lease_owner = req.owner;
      j.lease_expires_at = req.lease_until;
      j.updated_at = req.now;
      attempts_.begin_attempt(j.id, req.owner, req.now);
      out.push_back(j);
    });
    return out;
  }

  std::optional<time_point> next_due(const claim_request& req) {
    std::lock_guard lock(mu_);
    return jobs_.earliest_due(req);
  }

  bool renew_lease(std::string_view id, std::string_view owner, time_point until) {
    std::lock_guard lock(mu_);
    job* j = jobs_.held(id, owner);
    if (!j) return false;
    j->lease_expires_at = until;
    return true;
  }

  bool finish(const finish_request& f) {
    std::lock_guard lock(mu_);
    job* j = jobs_.held(f.id, f.owner);
    if (!j) return false;
    j->state = f.state;
    j->updated_at = f.now;
    j->last_error = f.last_error;
    j->exit_code = f.exit_code;
    clear_lease(*j);
    if (f.state == job_state::failed) j->run_at = f.run_at;
    if (detail::claimable_state(j->state)) jobs_.schedule(*j);
    attempts_.close_finished(j->id, f);
    return true;
  }

  bool release(std::string_view id, std::string_view owner, time_point now) {
    std::lock_guard lock(mu_);
    job* j = jobs_.held(id, owner);
    if (!j) return false;
    j->state = job_state::pending;
    j->attempts = std::max(0, j->attempts - 1);
    j->updated_at = now;
    clear_lease(*j);
    jobs_.schedule(*j);
    attempts_.close_running(j->id, now, attempt_outcome::released, "handed back by a stopping worker");
    return true;
  }

  std::vector<lapsed_lease> lapsed_leases(time_point now) {
    std::lock_guard lock(mu_);
    std::vector<lapsed_lease> out;
    for (auto& [id, j] : jobs_)
      if (lapsed(j, now)) out.push_back({id, j.lease_owner, j.recoveries + 1});
    return out;
  }

  bool recover_lapsed(const lapse_recovery& r) {
    std::lock_guard lock(mu_);
    job* j = jobs_.held(r.id, r.owner);
    if (!j || !lapsed(*j, r.now)) return false;
    j->recoveries = r.lapses;
    j->attempts = std::max(0, j->attempts - 1);  // a lost attempt is not counted
    j->updated_at = r.now;
    clear_lease(*j);
    attempts_.close_running(r.id, r.now, attempt_outcome::lost, r.attempt_error);
    if (r.dead) {
      j->state = job_state::dead;
      j->last_error = r.dead_error;
    } else {
      j->state = job_state::pending;
      j->run_at = r.now;
      jobs_.schedule(*j);
    }
    return true;
  }

  bool cancel(std::string_view id, time_point now) {
    std::lock_guard lock(mu_);
    job* j = jobs_.find(id);
    if (!j || is_final(j->state)) return false;
    jobs_.unschedule(*j);
    if (j->state == job_state::processing) attempts_.close_running(j->id, now, attempt_outcome::canceled, "canceled");
    j->state = job_state::canceled;
    j->updated_at = now;
    clear_lease(*j);
    return true;
  }

  bool retry_dead(std::string_view id, time_point now) {
    std::lock_guard lock(mu_);
    job* j = jobs_.find(id);
    if (!j || j->state != job_state::dead) return false;
    requeue_dead(*j, now);
    return true;
  }

  std::size_t retry_all_dead(time_point now) {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (auto& [_, j] : jobs_)
      if (j.state == job_state::dead) {
        requeue_dead(j, now);
        ++n;
      }
    return n;
  }

  bool remove(std::string_view id) {
    std::lock_guard lock(mu_);
    job* j = jobs_.find(id);
    if (!j || j->state == job_state::processing) return false;
    erase(*j);
    return true;
  }

  bool update_job(const job_update& u) {
    std::lock_guard lock(mu_);
    job* j = jobs_.find(u.id);
    if (!j || j->state != u.expected || j->state == job_state::processing) return false;
    jobs_.unschedule(*j);  // by its current keys, before priority or run_at change
    const job_patch& p = u.set;
    if (p.command) j->command = *p.command;
    if (p.executor) j->executor = *p.executor;
    if (p.payload) j->payload = *p.payload;
    if (p.queue) j->queue = *p.queue;
    if (p.priority) j->priority = *p.priority;
    if (p.max_retries) j->max_retries = *p.max_retries;
    if (p.run_at) j->run_at = *p.run_at;
    if (p.timeout) j->timeout = *p.timeout;
    if (p.env) j->env = *p.env;
    if (p.cwd) j->cwd = *p.cwd;
    if (p.state == job_state::pending && j->state != job_state::pending) {
      j->state = job_state::pending;
      j->attempts = 0;
      j->recoveries = 0;
      j->exit_code.reset();
      if (!p.run_at) j->run_at = u.now;
    } else if (p.state == job_state::canceled) {
      j->state = job_state::canceled;
    }
    j->updated_at = u.now;
    if (detail::claimable_state(j->state)) jobs_.schedule(*j);
    return true;
  }

  reset_result reset_jobs(bool force) {
    std::lock_guard lock(mu_);
    reset_result r;
    for (const auto& [_, j] : jobs_)
      if (j.state == job_state::processing) ++r.running;
    if (r.running > 0 && !force) {
      r.refused = true;
      return r;
    }
    r.deleted = jobs_.size();
    jobs_.clear();
    attempts_.clear();
    return r;
  }

  std::optional<job> get(std::string_view id) {
    std::lock_guard lock(mu_);
    if (job* j = jobs_.find(id)) return *j;
    return std::nullopt;
  }

  std::vector<job> list(const list_filter& f) {
    std::lock_guard lock(mu_);
    return jobs_.list(f);
  }

  state_counts counts() {
    std::lock_guard lock(mu_);
    state_counts c{};
    for (const auto& [_, j] : jobs_) ++at(c, j.state);
    return c;
  }

  std::map<std::string, state_counts> counts_by_queue() {
    std::lock_guard lock(mu_);
    std::map<std::string, state_counts> out;
    for (const auto& [_, j] : jobs_) ++at(out[j.queue], j.state);
    return out;
  }

  std::map<std::string, std::size_t> waiting_by_executor() {
    std::lock_guard lock(mu_);
    std::map<std::string, std::size_t> out;
    for (const auto& [_, j] : jobs_)
      if (detail::claimable_state(j.state)) ++out[j.executor];
    return out;
  }

  std::vector<attempt_record> attempts(std::string_view id) {
    std::lock_guard lock(mu_);
    return attempts_.of(id);
  }

  std::size_t purge(const purge_filter& f) {
    std::lock_guard lock(mu_);
    std::vector<job*> victims;
    for (auto& [_, j] : jobs_) {
      if (!is_final(j.state)) continue;
      if (std::find(f.states.begin(), f.states.end(), j.state) == f.states.end()) continue;
      if (f.updated_before && j.updated_at >= *f.updated_before) continue;
      victims.push_back(&j);
    }
    for (job* j : victims) erase(*j);
    return victims.size();
  }

  std::optional<std::string> get_config(std::string_view key) {
    std::lock_guard lock(mu_);
    auto it = config_.find(std::string(key));
    if (it == config_.end()) return std::nullopt;
    return it->second;
  }
  void set_config(std::string_view key, std::string_view value) {
    std::lock_guard lock(mu_);
    config_[std::string(key)] = std::string(value);
  }
  void set_config_entries(const std::map<std::string, std::string>& entries) {
    std::lock_guard lock(mu_);
    auto next = config_;
    for (const auto& [k, v] : entries) next[k] = v;
    config_.swap(next);  // allocation happens before anything changes
  }
  std::map<std::string, std::string> config_entries() {
    std::lock_guard lock(mu_);
    return config_;
  }
  void reset_config() {
    std::lock_guard lock(mu_);
    config_.clear();
  }

  void upsert_worker(const worker_info& w) {
    std::lock_guard lock(mu_);
    workers_[w.id] = w;
  }
  void remove_worker(std::string_view id) {
    std::lock_guard lock(mu_);
    workers_.erase(std::string(id));
  }
  std::vector<worker_info> workers() {
    std::lock_guard lock(mu_);
    std::vector<worker_info> out;
    for (const auto& [_, w] : workers_) out.push_back(w);
    return out;
  }

  attempt_stats stats(std::optional<time_point> since) {
    std::lock_guard lock(mu_);
    return attempts_.stats(since);
  }
  std::vector<minute_count> finished_per_minute(time_point since) {
    std::lock_guard lock(mu_);
    return attempts_.per_minute(since);
  }

 private:
  /// insert() under the lock already held; `Jobs` is a const or movable vector.
  template <class Jobs>
  void insert_locked(Jobs&& jobs) {
    jobs_.check_new_ids(jobs);  // all-or-nothing: every id is checked first
    // One rehash for the batch instead of several while it goes in.
    attempts_.reserve(jobs_.size() + jobs.size());
    jobs_.reserve_more(jobs.size());
    for (auto& in : jobs) {
      job j = [&]() -> job {
        if constexpr (std::is_reference_v<Jobs>) return in;  // the caller keeps its jobs
        else return std::move(in);
      }();
      jobs_.add(std::move(j));
    }
  }

  void requeue_dead(job& j, time_point now) {
    j.state = job_state::pending;
    j.attempts = 0;
    j.recoveries = 0;
    j.run_at = now;
    j.updated_at = now;
    j.exit_code.reset();
    jobs_.schedule(j);
  }

  static bool lapsed(const job& j, time_point now) {
    return j.state == job_state::processing && j.lease_expires_at && *j.lease_expires_at < now;
  }
  static void clear_lease(job& j) {
    j.lease_owner.clear();
    j.lease_expires_at.reset();
  }
  void erase(job& j) {
    attempts_.erase(j.id);
    jobs_.erase(j);  // last: invalidates j
  }

  mutable Mutex mu_;
  std::int64_t id_counter_ = 0;  // the last N given by insert_sequential
  detail::memory_job_table jobs_;
  detail::memory_attempt_log attempts_;
  std::map<std::string, std::string> config_;
  std::map<std::string, worker_info> workers_;
};

using memory_storage_mt = memory_storage<std::mutex>;
using memory_storage_st = memory_storage<null_mutex>;

static_assert(storage_policy<memory_storage_mt> && attempt_statistics<memory_storage_mt> && counts_per_queue<memory_storage_mt> &&
              bulk_dead_retry<memory_storage_mt> && attempts_per_minute<memory_storage_mt>);
static_assert(storage_policy<memory_storage_st>);

}  // namespace queuectl
