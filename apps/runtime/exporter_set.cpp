#include "exporter_set.hpp"

namespace queuectl::app {

namespace {

attempt_event event_of(const job& j, time_point started) {
  attempt_event e;
  e.job_id = j.id;
  e.queue = j.queue;
  e.executor = j.executor;
  e.attempt = j.attempts;
  e.due_at = j.run_at;
  e.started_at = started;
  return e;
}

}  // namespace

std::string exporter_set::start(const worker_info& host,
                                const std::map<std::string, std::map<std::string, std::string>>& options) {
  for (std::size_t i = 0; i < exporters_.size(); ++i) {
    exporter_start_info info;
    info.host_id = host.id;
    info.slots = host.slots;
    if (auto it = options.find(std::string(exporters_[i]->name())); it != options.end()) info.settings = it->second;
    if (std::string why = exporters_[i]->start(info); !why.empty()) {
      for (std::size_t k = 0; k < i; ++k) exporters_[k]->stop();
      return why;
    }
  }
  started_ = true;
  return {};
}

void exporter_set::attempt_started(const job& j) {
  const attempt_event e = event_of(j, now());
  for (const auto& x : exporters_) x->attempt_started(e);
}

void exporter_set::attempt_finished(const job& j, const attempt_result& r, attempt_outcome outcome, time_point started,
                                    time_point finished) {
  attempt_event e = event_of(j, started);
  e.finished_at = finished;
  e.permanent = r.permanent;
  e.outcome = outcome;  // as the worker pool recorded it (canceled, timed_out, released, ...)
  for (const auto& x : exporters_) x->attempt_finished(e);
}

void exporter_set::snapshot(const std::map<std::string, state_counts>& by_queue, std::size_t busy, std::size_t total) {
  queue_snapshot s;
  for (const auto& [q, c] : by_queue) s.queues.push_back({q, c});
  s.busy_slots = busy;
  s.total_slots = total;
  for (const auto& x : exporters_) x->snapshot(s);
}

void exporter_set::stop() {
  if (!started_) return;
  started_ = false;
  for (const auto& x : exporters_) x->stop();
}

}  // namespace queuectl::app
