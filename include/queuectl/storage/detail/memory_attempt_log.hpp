/// @file
/// @brief memory_storage's attempt records, one list per job: the running attempt is the
/// last record while its outcome is `running`; stats read the finished ones.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "queuectl/job.hpp"
#include "queuectl/storage/detail/id_keyed_map.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail {

/// @brief The attempt records of every job in a memory_storage (guarded by its mutex).
class memory_attempt_log {
 public:
  /// A claim starts attempt number n+1 of the job on `worker`.
  void begin_attempt(const std::string& job_id, const std::string& worker, time_point now) {
    auto& recs = by_job_[job_id];
    attempt_record rec;
    rec.job_id = job_id;
    rec.number = static_cast<int>(recs.size()) + 1;
    rec.worker = worker;
    rec.started_at = now;
    recs.push_back(std::move(rec));
  }

  /// The job's running attempt, or null when its last record has ended (or it has none).
  attempt_record* running(const std::string& job_id) {
    auto it = by_job_.find(job_id);
    if (it == by_job_.end() || it->second.empty()) return nullptr;
    attempt_record& last = it->second.back();
    return last.outcome == attempt_outcome::running ? &last : nullptr;
  }

  /// Ends the running attempt as the worker reported it (finish).
  void close_finished(const std::string& job_id, const finish_request& f) {
    if (attempt_record* rec = running(job_id)) {
      rec->finished_at = f.now;
      rec->outcome = f.outcome;
      rec->exit_code = f.exit_code;
      rec->output = f.output;
      rec->error = f.last_error;
    }
  }

  /// Ends the running attempt for a reason of the storage's (released, lost, canceled).
  void close_running(const std::string& job_id, time_point now, attempt_outcome o, const std::string& why) {
    if (attempt_record* rec = running(job_id)) {
      rec->finished_at = now;
      rec->outcome = o;
      rec->error = why;
    }
  }

  std::vector<attempt_record> of(std::string_view job_id) const {
    auto it = by_job_.find(job_id);
    return it == by_job_.end() ? std::vector<attempt_record>{} : it->second;
  }

  void reserve(std::size_t jobs) { by_job_.reserve(jobs); }
  void erase(const std::string& job_id) { by_job_.erase(job_id); }
  void clear() { by_job_.clear(); }

  /// Attempts finished (succeeded, failed or timed out) since `since`; all when nullopt.
  /// Percentiles over the latest percentile_sample of them, as the SQL storages take them.
  attempt_stats stats(std::optional<time_point> since) const {
    attempt_stats s;
    std::vector<std::pair<time_point, double>> finished;  // finish, duration (ms)
    double total = 0;
    for_each_finished(since, [&](const attempt_record& r) {
      ++s.finished;
      if (r.outcome == attempt_outcome::succeeded) ++s.succeeded;
      else ++s.failed;
      const double d = static_cast<double>((*r.finished_at - r.started_at).count());
      total += d;
      finished.emplace_back(*r.finished_at, d);
      if (!s.first_started || r.started_at < *s.first_started) s.first_started = r.started_at;
      if (!s.last_finished || *r.finished_at > *s.last_finished) s.last_finished = r.finished_at;
    });
    if (finished.size() > percentile_sample) {
      const auto latest_first = [](const auto& a, const auto& b) { return a.first > b.first; };
      std::nth_element(finished.begin(), finished.begin() + percentile_sample, finished.end(), latest_first);
      finished.resize(percentile_sample);
    }
    std::vector<double> durations;
    durations.reserve(finished.size());
    for (const auto& f : finished) durations.push_back(f.second);
    summarize_durations(s, std::move(durations));
    if (s.finished) s.mean_ms = total / static_cast<double>(s.finished);
    return s;
  }

  /// Attempts finished since `since` per minute, oldest first.
  std::vector<minute_count> per_minute(time_point since) const {
    std::map<std::int64_t, minute_count> by_minute;
    for_each_finished(since, [&](const attempt_record& r) {
      const std::int64_t m = to_ms(*r.finished_at) / 60000;
      minute_count& c = by_minute.try_emplace(m, minute_count{m, 0, 0}).first->second;
      ++(r.outcome == attempt_outcome::succeeded ? c.succeeded : c.failed);
    });
    std::vector<minute_count> out;
    for (const auto& [_, c] : by_minute) out.push_back(c);
    return out;
  }

 private:
  /// Calls `f` for every attempt that succeeded, failed or timed out at or after `since`.
  template <class F>
  void for_each_finished(std::optional<time_point> since, F&& f) const {
    for (const auto& [_, recs] : by_job_)
      for (const auto& r : recs) {
        if (!r.finished_at) continue;
        if (r.outcome != attempt_outcome::succeeded && r.outcome != attempt_outcome::failed &&
            r.outcome != attempt_outcome::timed_out)
          continue;
        if (since && *r.finished_at < *since) continue;
        f(r);
      }
  }

  by_id<std::vector<attempt_record>> by_job_;
};

}  // namespace queuectl::detail
