// The JSON shapes of jobs, attempts, workers, status and metrics, shared by the CLI's
// --json and the REST API (docs/cli.md, docs/dashboard.md).
//
// The writers are templates over a RapidJSON-style Writer so that the CLI can print
// pretty JSON (the *_json strings) and the HTTP API compact JSON from the same code.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/rapidjson.h>

#include "queuectl/job.hpp"
#include "queuectl/job_codec.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"
#include "snapshots.hpp"
#include "worker_liveness.hpp"

namespace queuectl::app {

// ---- templates over a RapidJSON Writer -----------------------------------------------

template <class Writer>
void write_string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <class Writer>
void write_time(Writer& w, std::optional<time_point> t) {
  if (t) write_string(w, to_rfc3339(*t));
  else w.Null();
}

template <class Writer>
void write_counts(Writer& w, const state_counts& c) {
  w.StartObject();
  for (auto s : all_job_states) {
    write_string(w, to_string(s));
    w.Uint64(at(c, s));
  }
  w.EndObject();
}

template <class Writer>
void write_attempt(Writer& w, const attempt_record& a) {
  w.StartObject();
  w.Key("number");
  w.Int(a.number);
  w.Key("worker");
  write_string(w, a.worker);
  w.Key("started_at");
  write_time(w, a.started_at);
  w.Key("finished_at");
  write_time(w, a.finished_at);
  w.Key("duration_ms");
  if (a.finished_at) w.Int64((*a.finished_at - a.started_at).count());
  else w.Null();
  w.Key("outcome");
  write_string(w, to_string(a.outcome));
  w.Key("exit_code");
  if (a.exit_code) w.Int(*a.exit_code);
  else w.Null();
  w.Key("error");
  write_string(w, a.error);
  w.Key("output");
  write_string(w, a.output);
  w.EndObject();
}

template <class Writer>
void write_worker(Writer& w, const worker_info& wi, worker_liveness liveness) {
  w.StartObject();
  w.Key("id");
  write_string(w, wi.id);
  w.Key("hostname");
  write_string(w, wi.hostname);
  w.Key("pid");
  w.Int64(wi.pid);
  w.Key("slots");
  w.Int(wi.slots);
  w.Key("started_at");
  write_time(w, wi.started_at);
  w.Key("heartbeat_at");
  write_time(w, wi.heartbeat_at);
  w.Key("alive");
  w.Bool(liveness == worker_liveness::alive);
  w.Key("liveness");
  write_string(w, to_string(liveness));
  w.Key("executors");  // null: claims for any executor
  if (wi.executors) {
    w.StartArray();
    for (const auto& e : *wi.executors) write_string(w, e);
    w.EndArray();
  } else {
    w.Null();
  }
  w.EndObject();
}

template <class Writer>
void write_status(Writer& w, const status_snapshot& s) {
  std::size_t total = 0;
  for (auto n : s.counts) total += n;
  w.StartObject();
  w.Key("counts");
  write_counts(w, s.counts);
  w.Key("total");
  w.Uint64(total);
  w.Key("workers");
  w.StartObject();
  w.Key("active");
  w.Int(active_slots(s.workers, s.now, s.lease_seconds));
  w.Key("processes");
  w.StartArray();
  for (const auto& wi : s.workers) write_worker(w, wi, liveness_of(wi, s.now, s.lease_seconds));
  w.EndArray();
  w.EndObject();
  w.Key("missing_executors");  // executor -> jobs waiting that no live host can run
  w.StartObject();
  for (const auto& [name, n] : missing_executors(s.waiting_by_executor, s.workers, s.now, s.lease_seconds)) {
    write_string(w, name);
    w.Uint64(n);
  }
  w.EndObject();
  w.EndObject();
}

template <class Writer>
void write_metrics(Writer& w, const metrics_snapshot& m) {
  const attempt_stats& st = m.stats;
  w.StartObject();
  w.Key("window_seconds");
  if (m.window) w.Double(static_cast<double>(m.window->count()) / 1000.0);
  else w.Null();
  w.Key("since");
  write_time(w, m.window ? std::optional<time_point>(m.now - *m.window) : std::nullopt);
  w.Key("finished_attempts");
  w.Uint64(st.finished);
  w.Key("succeeded");
  w.Uint64(st.succeeded);
  w.Key("failed");
  w.Uint64(st.failed);
  w.Key("throughput_per_minute");
  w.Double(throughput_per_minute(m));
  w.Key("success_rate");
  if (st.finished) w.Double(static_cast<double>(st.succeeded) / static_cast<double>(st.finished));
  else w.Null();
  w.Key("duration_ms");
  w.StartObject();
  w.Key("mean");
  w.Double(st.mean_ms);
  w.Key("p50");
  w.Double(st.p50_ms);
  w.Key("p95");
  w.Double(st.p95_ms);
  w.Key("p99");
  w.Double(st.p99_ms);
  w.EndObject();
  w.Key("counts");
  write_counts(w, m.counts);
  w.Key("queues");
  w.StartObject();
  for (const auto& [q, c] : m.per_queue) {
    write_string(w, q);
    write_counts(w, c);
  }
  w.EndObject();
  w.EndObject();
}

// ---- pretty JSON strings for the CLI (PrettyWriter: `"key": value`, 4-space indent) ----

std::string jobs_json(const std::vector<job>& jobs);
/// The job object with one more member, "history": the array of its attempt records (the
/// job's own "attempts" member is the count).
std::string job_json(const job& j, const std::vector<attempt_record>& attempts);
std::string attempts_json(const std::vector<attempt_record>& attempts);
std::string status_json(const status_snapshot& s);
std::string metrics_json(const metrics_snapshot& m);
/// One object {key: value, …}; numeric values are written as numbers.
std::string config_json(const std::vector<config_entry>& entries);

}  // namespace queuectl::app
