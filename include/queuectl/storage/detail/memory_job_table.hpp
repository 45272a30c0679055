/// @file
/// @brief memory_storage's jobs and the ordered indexes that point into them: insertion
/// order (for listing) and the claim order, so a claim costs O(log n) however many jobs
/// wait in the future.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "queuectl/error.hpp"
#include "queuectl/job.hpp"
#include "queuectl/storage/detail/id_keyed_map.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail {

/// Pending and failed jobs are the ones a claim may take (once due).
inline bool claimable_state(job_state s) { return s == job_state::pending || s == job_state::failed; }

/// Whether a claim with these queue and executor filters may take `j`.
inline bool claim_matches(const claim_request& req, const job& j) {
  return (req.queues.empty() || std::find(req.queues.begin(), req.queues.end(), j.queue) != req.queues.end()) &&
         covers_executor(req.executors, j.executor);
}

/// @brief The jobs of a memory_storage by id, with its indexes (guarded by its mutex).
///
/// Claimable jobs sit in one of two ordered indexes: `scheduled_` (by run_at) until they
/// are due, then `due_` (by priority desc, run_at, seq). Whoever changes a job's state,
/// priority or run_at unschedules it first (by its current keys) and schedules it again
/// if it is still claimable.
class memory_job_table {
 public:
  job* find(std::string_view id) {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : &it->second;
  }
  /// The job if `owner` holds its lease (it is processing under that owner).
  job* held(std::string_view id, std::string_view owner) {
    job* j = find(id);
    if (!j || j->state != job_state::processing || j->lease_owner != owner) return nullptr;
    return j;
  }
  bool contains(std::string_view id) const { return jobs_.find(id) != jobs_.end(); }
  std::size_t size() const { return jobs_.size(); }

  /// Every (id, job), in no particular order. Erase only through erase().
  auto begin() { return jobs_.begin(); }
  auto end() { return jobs_.end(); }
  auto begin() const { return jobs_.begin(); }
  auto end() const { return jobs_.end(); }

  /// Throws conflict if an id of the batch is taken, or given twice in it: a batch goes in
  /// all or nothing, so every id is checked before anything is stored.
  template <class Jobs>
  void check_new_ids(const Jobs& jobs) const {
    std::unordered_set<std::string_view> batch;
    batch.reserve(jobs.size());
    for (const job& j : jobs)
      if (!batch.insert(j.id).second || jobs_.count(j.id))
        throw error(error_kind::conflict, "queuectl.storage.duplicate_id", "job id '" + j.id + "' already exists");
  }
  /// One rehash for a batch of `more` jobs instead of several while it goes in.
  void reserve_more(std::size_t more) { jobs_.reserve(jobs_.size() + more); }
  /// Stores a job whose id is free (check_new_ids), numbered by the next seq.
  void add(job&& j) {
    j.seq = ++next_seq_;
    auto [it, _] = jobs_.emplace(j.id, std::move(j));
    order_.emplace(it->second.seq, &it->second);
    if (claimable_state(it->second.state)) schedule(it->second);
  }
  void erase(job& j) {
    unschedule(j);
    order_.erase(j.seq);
    jobs_.erase(j.id);  // last: invalidates j
  }
  /// Removes every job; seq numbers go on from where they were.
  void clear() {
    jobs_.clear();
    order_.clear();
    due_.clear();
    scheduled_.clear();
  }

  // ---- claim order -------------------------------------------------------------------

  void schedule(job& j) { scheduled_.emplace(scheduled_key_of(j), &j); }
  void unschedule(const job& j) {
    scheduled_.erase(scheduled_key_of(j));
    due_.erase(due_key_of(j));
  }
  /// Moves the jobs whose run_at has come from `scheduled_` to `due_`.
  void promote_due(std::int64_t now_ms) {
    auto it = scheduled_.begin();
    while (it != scheduled_.end() && std::get<0>(it->first) <= now_ms) {
      due_.emplace(due_key_of(*it->second), it->second);
      it = scheduled_.erase(it);
    }
  }
  /// Takes up to req.max_jobs due jobs that match the claim, in claim order, out of the
  /// index and hands each to `take` (which leases it).
  template <class Take>
  void take_due(const claim_request& req, Take&& take) {
    std::size_t taken = 0;
    for (auto it = due_.begin(); it != due_.end() && taken < req.max_jobs;) {
      job& j = *it->second;
      if (!claim_matches(req, j)) {
        ++it;
        continue;
      }
      it = due_.erase(it);
      take(j);
      ++taken;
    }
  }
  /// The earliest run_at of a job the claim could take (due or not); nullopt: none.
  std::optional<time_point> earliest_due(const claim_request& req) const {
    std::optional<time_point> best;
    auto consider = [&](const job& j) {
      if (claim_matches(req, j) && (!best || j.run_at < *best)) best = j.run_at;
    };
    for (const auto& [_, j] : due_) consider(*j);
    for (const auto& [_, j] : scheduled_) {  // in run_at order: the first match is their earliest
      if (best && j->run_at >= *best) break;
      consider(*j);
    }
    return best;
  }

  // ---- listing -----------------------------------------------------------------------

  /// Jobs in insertion order (newest first if asked), filtered and paged; the seq bounds
  /// narrow the walk itself.
  std::vector<job> list(const list_filter& f) const {
    std::vector<job> out;
    std::size_t skipped = 0;
    auto visit = [&](const job* jp) {
      if (!matches(f, *jp)) return true;
      if (skipped < f.offset) {
        ++skipped;
        return true;
      }
      out.push_back(*jp);
      return f.limit == 0 || out.size() < f.limit;
    };
    const auto from = f.min_seq ? order_.lower_bound(*f.min_seq) : order_.begin();
    const auto to = f.max_seq ? order_.upper_bound(*f.max_seq) : order_.end();
    if (f.min_seq && f.max_seq && *f.min_seq > *f.max_seq) return out;
    if (f.newest_first) {
      for (auto it = std::make_reverse_iterator(to); it != std::make_reverse_iterator(from); ++it)
        if (!visit(it->second)) break;
    } else {
      for (auto it = from; it != to; ++it)
        if (!visit(it->second)) break;
    }
    return out;
  }

 private:
  using due_key = std::tuple<int, std::int64_t, std::int64_t>;   // -priority, run_at, seq
  using scheduled_key = std::tuple<std::int64_t, std::int64_t>;  // run_at, seq

  static due_key due_key_of(const job& j) { return {-j.priority, to_ms(j.run_at), j.seq}; }
  static scheduled_key scheduled_key_of(const job& j) { return {to_ms(j.run_at), j.seq}; }

  std::int64_t next_seq_ = 0;
  by_id<job> jobs_;
  // The indexes point into jobs_: its elements keep their address until erased (rehashing
  // moves no node), and erase() unlinks a job from every index first.
  std::map<std::int64_t, job*> order_;  // seq → job, for FIFO listing
  std::map<due_key, job*> due_;
  std::map<scheduled_key, job*> scheduled_;
};

}  // namespace queuectl::detail
