#include "metrics_registry.hpp"

#include <charconv>

namespace queuectl::prometheus {

namespace {

/// Shortest text that reads back as the same double (0.005, not 0.0050000000000000001).
std::string number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

std::string label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + escape_label(value) + "\"";
}

double seconds_between(time_point a, time_point b) {
  return b > a ? std::chrono::duration<double>(b - a).count() : 0.0;
}

}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += buckets_[i];
    const std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
    out.append(name).append("_bucket{").append(labels).append(sep).append("le=\"").append(le).append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out.append(name).append("_sum").append(braces).append(" ").append(number(sum_)).append("\n");
  out.append(name).append("_count").append(braces).append(" ").append(std::to_string(count_)).append("\n");
}

void metrics_registry::attempt_started(const attempt_event& e) {
  std::lock_guard lock(mu_);
  ++busy_slots_;
  ++started_[{e.queue, e.executor}];
  wait_[e.queue].observe(seconds_between(e.due_at, e.started_at));
}

void metrics_registry::attempt_finished(const attempt_event& e) {
  std::lock_guard lock(mu_);
  if (busy_slots_ > 0) --busy_slots_;
  std::string outcome(to_string(e.outcome));
  if (e.outcome == attempt_outcome::failed && e.permanent) outcome = "failed_permanently";
  ++finished_[{e.queue, e.executor, outcome}];
  duration_[{e.queue, e.executor}].observe(seconds_between(e.started_at, e.finished_at));
}

void metrics_registry::snapshot(const queue_snapshot& s) {
  std::lock_guard lock(mu_);
  jobs_ = s.queues;
  have_snapshot_ = true;
}

std::string metrics_registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  header(out, "queuectl_up", "gauge", "1 while this queuectl host is running.");
  out += "queuectl_up 1\n";
  header(out, "queuectl_host_start_time_seconds", "gauge", "Unix time this host's exporter started.");
  out += "queuectl_host_start_time_seconds " +
         number(std::chrono::duration<double>(started_at_.time_since_epoch()).count()) + "\n";

  header(out, "queuectl_jobs", "gauge", "Jobs in the queue database by queue and state (refreshed by the host's heartbeat).");
  if (have_snapshot_) {
    for (const auto& q : jobs_)
      for (int s = 0; s < static_cast<int>(q.counts.size()); ++s)
        out += "queuectl_jobs{" + label("queue", q.queue) + "," + label("state", to_string(static_cast<job_state>(s))) +
               "} " + std::to_string(q.counts[s]) + "\n";
  }

  header(out, "queuectl_worker_slots", "gauge", "Worker slots of this host.");
  out += "queuectl_worker_slots " + std::to_string(total_slots_) + "\n";
  header(out, "queuectl_worker_slots_busy", "gauge", "Worker slots of this host running a job now.");
  out += "queuectl_worker_slots_busy " + std::to_string(busy_slots_) + "\n";

  header(out, "queuectl_attempts_started_total", "counter", "Attempts started by this host.");
  for (const auto& [k, n] : started_)
    out += "queuectl_attempts_started_total{" + label("queue", k.first) + "," + label("executor", k.second) + "} " +
           std::to_string(n) + "\n";

  header(out, "queuectl_attempts_total", "counter", "Attempts finished by this host, by outcome.");
  for (const auto& [k, n] : finished_)
    out += "queuectl_attempts_total{" + label("queue", std::get<0>(k)) + "," + label("executor", std::get<1>(k)) + "," +
           label("outcome", std::get<2>(k)) + "} " + std::to_string(n) + "\n";

  header(out, "queuectl_attempt_duration_seconds", "histogram", "Duration of finished attempts.");
  for (const auto& [k, h] : duration_)
    h.render(out, "queuectl_attempt_duration_seconds", label("queue", k.first) + "," + label("executor", k.second));

  header(out, "queuectl_queue_wait_seconds", "histogram", "Time from a job becoming due (enqueue or retry time) to its attempt starting.");
  for (const auto& [q, h] : wait_) h.render(out, "queuectl_queue_wait_seconds", label("queue", q));
  return out;
}

}  // namespace queuectl::prometheus
