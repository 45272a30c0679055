/// @file
/// @brief In-process storage: fast, no persistence. The mutex is a template parameter.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/detail/null_mutex.hpp"
#include "queuectl/error.hpp"

namespace queuectl {

/// @brief Keeps jobs in memory; every operation holds `Mutex` (spdlog style:
/// `memory_storage_mt` for many threads, `memory_storage_st` for one).
///
/// Claimable jobs sit in one of two ordered indexes: `scheduled_` (by run_at) until they
/// are due, then `due_` (by priority desc, run_at, seq), so a claim costs O(log n) however
/// many jobs wait in the future.
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
      while (jobs_.count(j.id) || taken.count(j.id));
      taken.insert(j.id);
    }
    insert_locked(jobs);  // throws before anything is stored: the counter stays too
    id_counter_ = counter;
  }

  std::vector<job> claim(const claim_request& req) {
    std::lock_guard lock(mu_);
    promote_due(to_ms(req.now));
    std::vector<job> out;
    for (auto it = due_.begin(); it != due_.end() && out.size() < req.max_jobs;) {
      job& j = *it->second;
      if (!matches(req, j)) {
        ++it;
        continue;
      }
      it = due_.erase(it);
      j.state = job_state::processing;
      j.attempts += 1;
      j.lease_owner = req.owner;
      j.lease_expires_at = req.lease_until;
      j.updated_at = req.now;
      auto& recs = attempts_[j.id];
      attempt_record rec;
      rec.job_id = j.id;
      rec.number = static_cast<int>(recs.size()) + 1;
      rec.worker = req.owner;
      rec.started_at = req.now;
      recs.push_back(std::move(rec));
      out.push_back(j);
    }
    return out;
  }

  std::optional<time_point> next_due(const claim_request& req) {
    std::lock_guard lock(mu_);
    std::optional<time_point> best;
    auto consider = [&](const job& j) {
      if (matches(req, j) && (!best || j.run_at < *best)) best = j.run_at;
    };
    for (const auto& [_, j] : due_) consider(*j);
    for (const auto& [_, j] : scheduled_) {  // in run_at order: the first match is their earliest
      if (best && j->run_at >= *best) break;
      consider(*j);
    }
    return best;
  }

  bool renew_lease(std::string_view id, std::string_view owner, time_point until) {
    std::lock_guard lock(mu_);
    job* j = held(id, owner);
    if (!j) return false;
    j->lease_expires_at = until;
    return true;
  }

  bool finish(const finish_request& f) {
    std::lock_guard lock(mu_);
    job* j = held(f.id, f.owner);
    if (!j) return false;
    j->state = f.state;
    j->updated_at = f.now;
    j->last_error = f.last_error;
    j->exit_code = f.exit_code;
    clear_lease(*j);
    if (f.state == job_state::failed) j->run_at = f.run_at;
    if (claimable(j->state)) schedule(*j);
    if (attempt_record* rec = running_attempt(j->id)) {
      rec->finished_at = f.now;
      rec->outcome = f.outcome;
      rec->exit_code = f.exit_code;
      rec->output = f.output;
      rec->error = f.last_error;
    }
    return true;
  }

  bool release(std::string_view id, std::string_view owner, time_point now) {
    std::lock_guard lock(mu_);
    job* j = held(id, owner);
    if (!j) return false;
    j->state = job_state::pending;
    j->attempts = std::max(0, j->attempts - 1);
    j->updated_at = now;
    clear_lease(*j);
    schedule(*j);
    close_running_attempt(j->id, now, attempt_outcome::released, "handed back by a stopping worker");
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
    job* j = held(r.id, r.owner);
    if (!j || !lapsed(*j, r.now)) return false;
    j->recoveries = r.lapses;
    j->attempts = std::max(0, j->attempts - 1);  // a lost attempt is not counted
    j->updated_at = r.now;
    clear_lease(*j);
    close_running_attempt(r.id, r.now, attempt_outcome::lost, r.attempt_error);
    if (r.dead) {
      j->state = job_state::dead;
      j->last_error = r.dead_error;
    } else {
      j->state = job_state::pending;
      j->run_at = r.now;
      schedule(*j);
    }
    return true;
  }

  bool cancel(std::string_view id, time_point now) {
    std::lock_guard lock(mu_);
    job* j = find(id);
    if (!j || is_final(j->state)) return false;
    unschedule(*j);
    if (j->state == job_state::processing) close_running_attempt(j->id, now, attempt_outcome::canceled, "canceled");
    j->state = job_state::canceled;
    j->updated_at = now;
    clear_lease(*j);
    return true;
  }

  bool retry_dead(std::string_view id, time_point now) {
    std::lock_guard lock(mu_);
    job* j = find(id);
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
    job* j = find(id);
    if (!j || j->state == job_state::processing) return false;
    erase(*j);
    return true;
  }

  bool update_job(const job_update& u) {
    std::lock_guard lock(mu_);
    job* j = find(u.id);
    if (!j || j->state != u.expected || j->state == job_state::processing) return false;
    unschedule(*j);  // by its current keys, before priority or run_at change
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
    if (claimable(j->state)) schedule(*j);
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
    order_.clear();
    due_.clear();
    scheduled_.clear();
    attempts_.clear();
    return r;
  }

  std::optional<job> get(std::string_view id) {
    std::lock_guard lock(mu_);
    if (job* j = find(id)) return *j;
    return std::nullopt;
  }

  std::vector<job> list(const list_filter& f) {
    std::lock_guard lock(mu_);
    std::vector<job> out;
    std::size_t skipped = 0;
    auto visit = [&](const job* jp) {
      const job& j = *jp;
      if (f.state && j.state != *f.state) return true;
      if (f.queue && j.queue != *f.queue) return true;
      if (skipped < f.offset) {
        ++skipped;
        return true;
      }
      out.push_back(j);
      return f.limit == 0 || out.size() < f.limit;
    };
    if (f.newest_first) {
      for (auto it = order_.rbegin(); it != order_.rend(); ++it)
        if (!visit(it->second)) break;
    } else {
      for (auto it = order_.begin(); it != order_.end(); ++it)
        if (!visit(it->second)) break;
    }
    return out;
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
      if (claimable(j.state)) ++out[j.executor];
    return out;
  }

  std::vector<attempt_record> attempts(std::string_view id) {
    std::lock_guard lock(mu_);
    auto it = attempts_.find(id);
    return it == attempts_.end() ? std::vector<attempt_record>{} : it->second;
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
    attempt_stats s;
    std::vector<double> durations;
    for (const auto& [_, recs] : attempts_) {
      for (const auto& r : recs) {
        if (!r.finished_at) continue;
        if (r.outcome != attempt_outcome::succeeded && r.outcome != attempt_outcome::failed &&
            r.outcome != attempt_outcome::timed_out)
          continue;
        if (since && *r.finished_at < *since) continue;
        ++s.finished;
        if (r.outcome == attempt_outcome::succeeded) ++s.succeeded;
        else ++s.failed;
        const double d = static_cast<double>((*r.finished_at - r.started_at).count());
        durations.push_back(d);
        if (!s.first_started || r.started_at < *s.first_started) s.first_started = r.started_at;
        if (!s.last_finished || *r.finished_at > *s.last_finished) s.last_finished = r.finished_at;
      }
    }
    summarize_durations(s, std::move(durations));
    return s;
  }

 private:
  using due_key = std::tuple<int, std::int64_t, std::int64_t>;        // -priority, run_at, seq
  using scheduled_key = std::tuple<std::int64_t, std::int64_t>;       // run_at, seq

  static bool claimable(job_state s) { return s == job_state::pending || s == job_state::failed; }
  static bool matches(const claim_request& req, const job& j) {
    return (req.queues.empty() || std::find(req.queues.begin(), req.queues.end(), j.queue) != req.queues.end()) &&
           covers_executor(req.executors, j.executor);
  }
  static due_key due_key_of(const job& j) { return {-j.priority, to_ms(j.run_at), j.seq}; }
  static scheduled_key scheduled_key_of(const job& j) { return {to_ms(j.run_at), j.seq}; }

  void schedule(job& j) { scheduled_.emplace(scheduled_key_of(j), &j); }
  void unschedule(const job& j) {
    scheduled_.erase(scheduled_key_of(j));
    due_.erase(due_key_of(j));
  }
  void promote_due(std::int64_t now_ms) {
    auto it = scheduled_.begin();
    while (it != scheduled_.end() && std::get<0>(it->first) <= now_ms) {
      due_.emplace(due_key_of(*it->second), it->second);
      it = scheduled_.erase(it);
    }
  }

  /// insert() under the lock already held; `Jobs` is a const or movable vector.
  template <class Jobs>
  void insert_locked(Jobs&& jobs) {
    std::unordered_set<std::string_view> batch;  // all-or-nothing: check every id first
    batch.reserve(jobs.size());
    for (const job& j : jobs)
      if (!batch.insert(j.id).second || jobs_.count(j.id))
        throw error(error_kind::conflict, "queuectl.storage.duplicate_id", "job id '" + j.id + "' already exists");
    // One rehash for the batch instead of several while it goes in.
    jobs_.reserve(jobs_.size() + jobs.size());
    attempts_.reserve(jobs_.size() + jobs.size());
    for (auto& in : jobs) {
      job j = [&]() -> job {
        if constexpr (std::is_reference_v<Jobs>) return in;  // the caller keeps its jobs
        else return std::move(in);
      }();
      j.seq = ++next_seq_;
      auto [it, _] = jobs_.emplace(j.id, std::move(j));
      order_.emplace(it->second.seq, &it->second);
      if (claimable(it->second.state)) schedule(it->second);
    }
  }

  void requeue_dead(job& j, time_point now) {
    j.state = job_state::pending;
    j.attempts = 0;
    j.recoveries = 0;
    j.run_at = now;
    j.updated_at = now;
    j.exit_code.reset();
    schedule(j);
  }

  job* find(std::string_view id) {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : &it->second;
  }
  job* held(std::string_view id, std::string_view owner) {
    job* j = find(id);
    if (!j || j->state != job_state::processing || j->lease_owner != owner) return nullptr;
    return j;
  }
  static bool lapsed(const job& j, time_point now) {
    return j.state == job_state::processing && j.lease_expires_at && *j.lease_expires_at < now;
  }
  static void clear_lease(job& j) {
    j.lease_owner.clear();
    j.lease_expires_at.reset();
  }
  attempt_record* running_attempt(const std::string& id) {
    auto it = attempts_.find(id);
    if (it == attempts_.end() || it->second.empty()) return nullptr;
    attempt_record& last = it->second.back();
    return last.outcome == attempt_outcome::running ? &last : nullptr;
  }
  void close_running_attempt(const std::string& id, time_point now, attempt_outcome o, const std::string& why) {
    if (attempt_record* rec = running_attempt(id)) {
      rec->finished_at = now;
      rec->outcome = o;
      rec->error = why;
    }
  }
  void erase(job& j) {
    unschedule(j);
    order_.erase(j.seq);
    attempts_.erase(j.id);
    jobs_.erase(j.id);  // last: invalidates j
  }

  /// Lets lookups by std::string_view find std::string keys without a copy.
  struct id_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const noexcept { return std::hash<std::string_view>{}(id); }
  };
  template <class T>
  using by_id = std::unordered_map<std::string, T, id_hash, std::equal_to<>>;

  mutable Mutex mu_;
  std::int64_t next_seq_ = 0;
  std::int64_t id_counter_ = 0;  // the last N given by insert_sequential
  by_id<job> jobs_;
  // The indexes point into jobs_: its elements keep their address until erased (rehashing
  // moves no node), and erase() unlinks a job from every index first.
  std::map<std::int64_t, job*> order_;  // seq → job, for FIFO listing
  std::map<due_key, job*> due_;
  std::map<scheduled_key, job*> scheduled_;
  by_id<std::vector<attempt_record>> attempts_;
  std::map<std::string, std::string> config_;
  std::map<std::string, worker_info> workers_;
};

using memory_storage_mt = memory_storage<std::mutex>;
using memory_storage_st = memory_storage<null_mutex>;

static_assert(storage_policy<memory_storage_mt> && attempt_statistics<memory_storage_mt> && counts_per_queue<memory_storage_mt> &&
              bulk_dead_retry<memory_storage_mt>);
static_assert(storage_policy<memory_storage_st>);

}  // namespace queuectl
