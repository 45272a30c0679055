#include "text_views.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "durations.hpp"
#include "queuectl/queue_config.hpp"
#include "text_table.hpp"
#include "worker_liveness.hpp"

namespace queuectl::app {

namespace {

std::string what_runs(const job& j) {
  if (j.executor == "shell") return j.command;
  std::string s = j.executor + ": ";
  s += j.command.empty() ? j.payload : j.command;
  return s;
}

int allowed_attempts(const job& j) { return std::max(1, j.max_retries); }

std::string count_lines(const state_counts& c, const char* indent) {
  std::size_t width = 0;
  for (auto s : all_job_states) width = std::max(width, to_string(s).size());
  std::string out;
  for (auto s : all_job_states) {
    out += indent;
    out += to_string(s);
    out += ':';
    out.append(width - to_string(s).size() + 1, ' ');
    out += std::to_string(at(c, s));
    out += '\n';
  }
  return out;
}

std::string field(std::string_view name, std::string_view value) {
  std::string l(name);
  l += ':';
  l.append(name.size() < 13 ? 13 - name.size() : 1, ' ');
  l += value;
  l += '\n';
  return l;
}

std::string attempt_header(const attempt_record& a) {
  std::string h = "=== attempt " + std::to_string(a.number);
  h += "  exit_code=" + (a.exit_code ? std::to_string(*a.exit_code) : std::string("-"));
  h += "  outcome=" + std::string(to_string(a.outcome));
  // Lost (host died) and handed-back attempts do not count against max_retries: say so,
  // so the numbers here agree with `attempts` in show and list (docs/cli.md).
  if (a.outcome == attempt_outcome::lost || a.outcome == attempt_outcome::released) h += " (not counted)";
  h += "  started=" + to_rfc3339(a.started_at);
  h += "  duration=" + (a.finished_at ? format_duration(*a.finished_at - a.started_at) : std::string("-"));
  h += "  worker=" + printable(a.worker.empty() ? "-" : a.worker);
  return h;
}

}  // namespace

std::string jobs_table(const std::vector<job>& jobs) {
  table t({"ID", "STATE", "ATTEMPTS", "PRIORITY", "QUEUE", "RUN_AT", "COMMAND"});
  t.align_right(2);
  t.align_right(3);
  t.max_width(4, 24);
  t.max_width(6, 60);
  for (const auto& j : jobs)
    t.add_row({j.id, std::string(to_string(j.state)),
               std::to_string(j.attempts) + "/" + std::to_string(allowed_attempts(j)) +
                   (j.recoveries ? " +" + std::to_string(j.recoveries) + " lost" : std::string()),
               std::to_string(j.priority),
               j.queue, to_rfc3339(j.run_at), what_runs(j)});
  return t.render();
}

std::string job_text(const job& j, const std::vector<attempt_record>& attempts) {
  std::string o;
  o += field("id", printable(j.id));
  o += field("state", to_string(j.state));
  o += field("executor", printable(j.executor));
  if (!j.command.empty() || j.executor == "shell") o += field("command", printable(j.command));
  if (j.payload != "{}" && !j.payload.empty()) o += field("payload", printable(j.payload));
  o += field("queue", printable(j.queue));
  o += field("priority", std::to_string(j.priority));
  o += field("attempts", std::to_string(j.attempts) + " of " + std::to_string(allowed_attempts(j)) +
                             " (max_retries " + std::to_string(j.max_retries) + ")" +
                             (j.recoveries ? ", +" + std::to_string(j.recoveries) +
                                                 " lost when a host died under it (not counted; see recoveries)"
                                           : std::string()));
  o += field("run_at", to_rfc3339(j.run_at));
  o += field("timeout", j.timeout > 0 ? queue_config::format(j.timeout) + "s" : std::string("none"));
  if (!j.cwd.empty()) o += field("cwd", printable(j.cwd));
  for (const auto& [k, v] : j.env) o += field("env", printable(k + "=" + v));
  o += field("created_at", to_rfc3339(j.created_at));
  o += field("updated_at", to_rfc3339(j.updated_at));
  o += field("exit_code", j.exit_code ? std::to_string(*j.exit_code) : std::string("-"));
  o += field("last_error", j.last_error.empty() ? std::string("-") : printable(j.last_error));
  if (j.recoveries) o += field("recoveries", std::to_string(j.recoveries));
  if (!j.lease_owner.empty()) o += field("lease_owner", printable(j.lease_owner));
  if (j.lease_expires_at) o += field("lease_expires", to_rfc3339(*j.lease_expires_at));
  o += "history:\n";
  if (attempts.empty()) o += "  (no attempts yet)\n";
  else {
    table t({"#", "STARTED", "DURATION", "OUTCOME", "EXIT", "WORKER", "ERROR"});
    t.align_right(0);
    t.align_right(2);
    t.align_right(4);
    t.max_width(6, 60);
    for (const auto& a : attempts)
      t.add_row({std::to_string(a.number), to_rfc3339(a.started_at),
                 a.finished_at ? format_duration(*a.finished_at - a.started_at) : std::string("-"),
                 std::string(to_string(a.outcome)), a.exit_code ? std::to_string(*a.exit_code) : std::string("-"),
                 a.worker, a.error});
    const std::string r = t.render();
    std::size_t start = 0;
    while (start < r.size()) {
      const std::size_t nl = r.find('\n', start);
      o += "  " + r.substr(start, nl - start + 1);
      start = nl + 1;
    }
  }
  return o;
}

std::string attempts_log_text(const std::vector<attempt_record>& attempts) {
  std::string o;
  for (const auto& a : attempts) {
    o += attempt_header(a);
    o += '\n';
    if (!a.error.empty() && a.outcome != attempt_outcome::succeeded) o += "--- error: " + printable(a.error) + "\n";
    o += a.output;
    if (!a.output.empty() && a.output.back() != '\n') o += '\n';
  }
  return o;
}

namespace {
std::string alive_text(worker_liveness l) {
  return l == worker_liveness::alive ? "yes" : "no (" + std::string(to_string(l)) + ")";
}
}  // namespace

std::string status_text(const status_snapshot& s) {
  std::size_t total = 0;
  for (auto n : s.counts) total += n;
  std::string o = "jobs:\n" + count_lines(s.counts, "  ");
  o += "  total:      " + std::to_string(total) + "\n";
  o += "workers:\n";
  o += "  active: " + std::to_string(active_slots(s.workers, s.now, s.lease_seconds)) + "\n";
  if (!s.workers.empty()) {
    table t({"PROCESS", "HOST", "PID", "SLOTS", "STARTED", "HEARTBEAT", "ALIVE"});
    t.align_right(2);
    t.align_right(3);
    for (const auto& w : s.workers)
      t.add_row({w.id, w.hostname, std::to_string(w.pid), std::to_string(w.slots), to_rfc3339(w.started_at),
                 format_duration(s.now - w.heartbeat_at) + " ago",
                 alive_text(liveness_of(w, s.now, s.lease_seconds))});
    const std::string r = t.render();
    std::size_t start = 0;
    while (start < r.size()) {
      const std::size_t nl = r.find('\n', start);
      o += "  " + r.substr(start, nl - start + 1);
      start = nl + 1;
    }
  }
  const auto missing = missing_executors(s.waiting_by_executor, s.workers, s.now, s.lease_seconds);
  if (!missing.empty()) {
    o += "waiting for an executor no live host has:\n";
    for (const auto& [name, n] : missing)
      o += "  " + printable(name) + ": " + std::to_string(n) + (n == 1 ? " job" : " jobs") + "\n";
  }
  return o;
}

std::string metrics_text(const metrics_snapshot& m) {
  const attempt_stats& st = m.stats;
  char buf[160];
  std::string o;
  if (m.window) o += field("window", "last " + format_duration(*m.window) + " (since " + to_rfc3339(m.now - *m.window) + ")");
  else o += field("window", "all time");
  std::snprintf(buf, sizeof buf, "%zu finished (%zu succeeded, %zu failed)", st.finished, st.succeeded, st.failed);
  o += field("attempts", buf);
  std::snprintf(buf, sizeof buf, "%.2f jobs/min", throughput_per_minute(m));
  o += field("throughput", buf);
  if (st.finished) {
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * static_cast<double>(st.succeeded) / static_cast<double>(st.finished));
    o += field("success rate", buf);
    auto d = [](double ms) { return format_duration(milliseconds(static_cast<long long>(std::llround(ms)))); };
    o += field("duration", "mean " + d(st.mean_ms) + "  p50 " + d(st.p50_ms) + "  p95 " + d(st.p95_ms) + "  p99 " +
                               d(st.p99_ms));
  } else {
    o += field("success rate", "-");
    o += field("duration", "-");
  }
  o += "jobs:\n" + count_lines(m.counts, "  ");
  o += "queues:\n";
  if (m.per_queue.empty()) o += "  (none)\n";
  else {
    std::vector<std::string> headers = {"QUEUE"};
    for (auto s : all_job_states) {
      std::string h(to_string(s));
      for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      headers.push_back(h);
    }
    headers.push_back("TOTAL");
    table t(headers);
    for (std::size_t c = 1; c < headers.size(); ++c) t.align_right(c);
    for (const auto& [q, c] : m.per_queue) {
      std::vector<std::string> row = {q};
      std::size_t total = 0;
      for (auto s : all_job_states) {
        row.push_back(std::to_string(at(c, s)));
        total += at(c, s);
      }
      row.push_back(std::to_string(total));
      t.add_row(std::move(row));
    }
    const std::string r = t.render();
    std::size_t start = 0;
    while (start < r.size()) {
      const std::size_t nl = r.find('\n', start);
      o += "  " + r.substr(start, nl - start + 1);
      start = nl + 1;
    }
  }
  return o;
}

std::string config_text(const std::vector<config_entry>& entries) {
  table t({"KEY", "VALUE", ""});
  for (const auto& e : entries) t.add_row({e.key, e.value, e.is_set ? "" : "(default)"});
  return t.render();
}

}  // namespace queuectl::app
