// Presentation shared by the apps (queuectl, queuectl-host, the dashboard): aligned text
// tables, durations, and the JSON shapes of jobs, attempts, status and metrics.
//
// The JSON writers are templates over a RapidJSON-style Writer so that the CLI can print
// pretty JSON (`pretty_json`) and an HTTP API compact JSON from the same code.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/rapidjson.h>

#include "queuectl/job.hpp"
#include "queuectl/job_codec.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::app {

// ---- text ---------------------------------------------------------------------------

/// Width of UTF-8 text in terminal columns (one per code point; good enough for tables).
std::size_t display_width(std::string_view utf8);

/// One printable line: control characters become `\n`, `\t`, `\xNN` escapes, so stored
/// text can never break a table or send escape sequences to the terminal.
std::string printable(std::string_view s);

/// `printable(s)` cut to `max_width` columns, ending with "…" when cut.
std::string truncate(std::string_view s, std::size_t max_width);

/// 850ms, 1.25s, 2m03s, 1h02m, 3d04h.
std::string format_duration(milliseconds d);

/// Parses `30s`, `5m`, `1h`, `2d`, `1w`, `250ms`, `1.5h`; a bare number is seconds.
/// Returns nullopt for anything else, negative or beyond ten years.
std::optional<milliseconds> parse_duration(std::string_view s);

/// @brief A text table: a header line, then rows, columns separated by two spaces.
class table {
 public:
  explicit table(std::vector<std::string> headers);
  /// Cells are passed through printable(); missing cells are empty.
  void add_row(std::vector<std::string> cells);
  /// Cuts a column's cells (not its header) to `width` columns.
  void max_width(std::size_t column, std::size_t width);
  void align_right(std::size_t column);
  bool empty() const noexcept { return rows_.empty(); }
  /// Header and rows, each line ending in '\n'; the last column is not padded.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> max_;
  std::vector<bool> right_;
};

// ---- workers ------------------------------------------------------------------------

/// How a registered worker process looks (docs/cli.md, `status`).
enum class worker_liveness { alive, stale, gone };
std::string_view to_string(worker_liveness l) noexcept;

/// gone: registered from this machine (same hostname) and its pid is no longer that
/// process — checked at once, without waiting for the heartbeat; stale: its heartbeat is
/// older than max(3 × lease, 10 s); else alive.
worker_liveness liveness_of(const worker_info& w, time_point now, double lease_seconds);
/// liveness_of(...) == alive.
bool worker_is_fresh(const worker_info& w, time_point now, double lease_seconds);

/// Sum of the slots of the fresh workers: the `active: N` of `status`.
int active_slots(const std::vector<worker_info>& workers, time_point now, double lease_seconds);

/// Of the jobs waiting to run per executor (`waiting`, from waiting_by_executor()), those
/// whose executor no fresh worker process claims for: they stay pending until a host with
/// that executor plugin runs (claims are executor-aware).
std::map<std::string, std::size_t> missing_executors(const std::map<std::string, std::size_t>& waiting,
                                                     const std::vector<worker_info>& workers, time_point now,
                                                     double lease_seconds);

// ---- what the read commands show ----------------------------------------------------

/// Everything `status` prints.
struct status_snapshot {
  state_counts counts{};
  std::vector<worker_info> workers;
  std::map<std::string, std::size_t> waiting_by_executor;  ///< basic_queue::waiting_by_executor()
  time_point now{};
  double lease_seconds = 30;
};

/// Everything `metrics` prints.
struct metrics_snapshot {
  attempt_stats stats;
  std::optional<milliseconds> window;  ///< --since; nullopt = all time
  time_point now{};
  state_counts counts{};
  std::map<std::string, state_counts> per_queue;
};

/// One `config` entry: normalized key, effective value, whether it is persisted.
struct config_entry {
  std::string key;
  std::string value;
  bool is_set = false;
};

/// Table of jobs: ID STATE ATTEMPTS PRIORITY QUEUE RUN_AT COMMAND (header even when empty).
std::string jobs_table(const std::vector<job>& jobs);
/// `show`: every field, then one line per attempt.
std::string job_text(const job& j, const std::vector<attempt_record>& attempts);
/// `logs`: per attempt a header `=== attempt N  exit_code=C  outcome=…` then its output.
std::string attempts_log_text(const std::vector<attempt_record>& attempts);
/// `status`: `  pending: N` lines for all six states, then `workers:` with `  active: N`.
std::string status_text(const status_snapshot& s);
std::string metrics_text(const metrics_snapshot& m);
std::string config_text(const std::vector<config_entry>& entries);

/// Throughput in finished attempts per minute over the window (all time: first start to
/// last finish); 0 without finished attempts.
double throughput_per_minute(const metrics_snapshot& m);

// ---- JSON (templates over a RapidJSON Writer) ----------------------------------------

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
