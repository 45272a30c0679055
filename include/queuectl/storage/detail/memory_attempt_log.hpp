/// @file
/// @brief memory_storage's attempt records, one list per job: the running attempt is the
/// last record while its outcome is `running`; stats read the finished ones.
#pragma once

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
  attempt_stats stats(std::optional<time_point> since) const {
    attempt_stats s;
    std::vector<double> durations;
    for (const auto& [_, recs] : by_job_) {
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
  by_id<std::vector<attempt_record>> by_job_;
};

}  // namespace queuectl::detail
