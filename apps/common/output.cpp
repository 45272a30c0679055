#include "output.hpp"

#include "queuectl/json_parse.hpp"
#include "queuectl/queue_config.hpp"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

namespace queuectl::app {

// ---- text ---------------------------------------------------------------------------

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // count every byte but UTF-8 continuation bytes
  return n;
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string truncate(std::string_view s, std::size_t max_width) {
  std::string p = printable(s);
  if (display_width(p) <= max_width) return p;
  if (max_width == 0) return {};
  // Keep max_width - 1 code points, then the ellipsis.
  std::size_t kept = 0, i = 0;
  for (; i < p.size(); ++i) {
    if ((static_cast<unsigned char>(p[i]) & 0xC0) != 0x80) {
      if (kept == max_width - 1) break;
      ++kept;
    }
  }
  return p.substr(0, i) + "\xE2\x80\xA6";
}

std::string format_duration(milliseconds d) {
  long long ms = d.count();
  const char* sign = "";
  if (ms < 0) {
    sign = "-";
    ms = -ms;
  }
  char buf[48];
  if (ms < 1000) std::snprintf(buf, sizeof buf, "%s%lldms", sign, ms);
  else if (ms < 60'000) std::snprintf(buf, sizeof buf, "%s%.2fs", sign, static_cast<double>(ms) / 1000.0);
  else if (ms < 3'600'000) std::snprintf(buf, sizeof buf, "%s%lldm%02llds", sign, ms / 60'000, ms / 1000 % 60);
  else if (ms < 86'400'000) std::snprintf(buf, sizeof buf, "%s%lldh%02lldm", sign, ms / 3'600'000, ms / 60'000 % 60);
  else std::snprintf(buf, sizeof buf, "%s%lldd%02lldh", sign, ms / 86'400'000, ms / 3'600'000 % 24);
  return buf;
}

std::optional<milliseconds> parse_duration(std::string_view s) {
  std::size_t i = 0;
  double whole = 0;
  bool digits = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    whole = whole * 10 + (s[i] - '0');
    digits = true;
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    double scale = 0.1;
    bool frac = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole += (s[i] - '0') * scale;
      scale /= 10;
      frac = true;
      ++i;
    }
    if (!frac) return std::nullopt;
  }
  if (!digits) return std::nullopt;
  const std::string_view unit = s.substr(i);
  double factor;
  if (unit.empty() || unit == "s") factor = 1000;
  else if (unit == "ms") factor = 1;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else if (unit == "d") factor = 86'400'000;
  else if (unit == "w") factor = 7 * 86'400'000.0;
  else return std::nullopt;
  const double ms = whole * factor;
  if (!std::isfinite(ms) || ms > 3650.0 * 86'400'000) return std::nullopt;
  return milliseconds(static_cast<long long>(std::llround(ms)));
}

table::table(std::vector<std::string> headers)
    : headers_(std::move(headers)), max_(headers_.size(), 0), right_(headers_.size(), false) {}

void table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::size_t c = 0; c < cells.size(); ++c)
    cells[c] = max_[c] ? truncate(cells[c], max_[c]) : printable(cells[c]);
  rows_.push_back(std::move(cells));
}

void table::max_width(std::size_t column, std::size_t width) {
  if (column < max_.size()) max_[column] = width;
}

void table::align_right(std::size_t column) {
  if (column < right_.size()) right_[column] = true;
}

std::string table::render() const {
  std::vector<std::size_t> width(headers_.size(), 0);
  for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = display_width(headers_[c]);
  for (const auto& r : rows_)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], display_width(r[c]));
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      const std::size_t pad = width[c] - display_width(cells[c]);
      if (right_[c]) l.append(pad, ' ');
      l += cells[c];
      if (!right_[c] && !last) l.append(pad, ' ');
      if (!last) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l;
    out += '\n';
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
  return out;
}

// ---- workers ------------------------------------------------------------------------

namespace {

const std::string& this_machine() {
  static const std::string name = [] {
    char buf[256] = {0};
    return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string();
  }();
  return name;
}

/// Wall-clock time a process of this machine started: boot time + its start in ticks.
std::optional<time_point> process_start(long pid, char& state) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return std::nullopt;
  const auto paren = line.rfind(')');  // the command name may hold spaces and parens
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && fields >> field; ++i) {  // field 3 is the state, 22 the start time
    if (i == 3) state = field.empty() ? '?' : field[0];
    if (i == 22) start_ticks = std::strtoull(field.c_str(), nullptr, 10);
  }
  std::ifstream proc_stat("/proc/stat");
  long long boot = -1;
  for (std::string key; proc_stat >> key;) {
    if (key == "btime") {
      proc_stat >> boot;
      break;
    }
    std::getline(proc_stat, line);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (boot < 0 || ticks <= 0 || start_ticks == 0) return std::nullopt;
  return time_point(milliseconds(boot * 1000 + static_cast<long long>(start_ticks * 1000 / static_cast<unsigned long long>(ticks))));
}

/// For a worker registered from this machine: false if its process is gone — no such pid,
/// a zombie, or a process that started after the worker's last heartbeat (the pid was
/// reused; a live worker's process always started before its heartbeats, even across a
/// clock step once one heartbeat has followed it). nullopt for a worker of another machine.
std::optional<bool> local_process_alive(const worker_info& w) {
  if (w.hostname.empty() || w.hostname != this_machine() || w.pid <= 0 || w.pid > INT_MAX) return std::nullopt;
  const auto pid = static_cast<pid_t>(w.pid);
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;  // EPERM: it exists, another user's
  char state = '?';
  const std::optional<time_point> started = process_start(pid, state);
  if (state == 'Z' || state == 'X') return false;
  // btime has a resolution of 1 s: allow 2 s before calling the pid reused.
  if (started && *started > w.heartbeat_at + std::chrono::seconds(2)) return false;
  return true;
}

}  // namespace

std::string_view to_string(worker_liveness l) noexcept {
  switch (l) {
    case worker_liveness::alive: return "alive";
    case worker_liveness::stale: return "stale";
    case worker_liveness::gone: return "gone";
  }
  return "stale";
}

worker_liveness liveness_of(const worker_info& w, time_point now, double lease_seconds) {
  if (local_process_alive(w) == false) return worker_liveness::gone;
  const double limit_ms = std::max(3.0 * lease_seconds, 10.0) * 1000.0;
  return static_cast<double>((now - w.heartbeat_at).count()) <= limit_ms ? worker_liveness::alive
                                                                          : worker_liveness::stale;
}

bool worker_is_fresh(const worker_info& w, time_point now, double lease_seconds) {
  return liveness_of(w, now, lease_seconds) == worker_liveness::alive;
}

int active_slots(const std::vector<worker_info>& workers, time_point now, double lease_seconds) {
  int n = 0;
  for (const auto& w : workers)
    if (worker_is_fresh(w, now, lease_seconds)) n += w.slots;
  return n;
}

std::map<std::string, std::size_t> missing_executors(const std::map<std::string, std::size_t>& waiting,
                                                     const std::vector<worker_info>& workers, time_point now,
                                                     double lease_seconds) {
  std::map<std::string, std::size_t> out;
  for (const auto& [executor, n] : waiting) {
    bool covered = false;
    for (const auto& w : workers)
      covered = covered || (worker_is_fresh(w, now, lease_seconds) && covers_executor(w.executors, executor));
    if (!covered && n > 0) out.emplace(executor, n);
  }
  return out;
}

// ---- text views ---------------------------------------------------------------------

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

double throughput_per_minute(const metrics_snapshot& m) {
  const attempt_stats& st = m.stats;
  if (st.finished == 0) return 0;
  double minutes;
  if (m.window) minutes = static_cast<double>(m.window->count()) / 60'000.0;
  else if (st.first_started && st.last_finished)
    minutes = static_cast<double>((*st.last_finished - *st.first_started).count()) / 60'000.0;
  else return 0;
  minutes = std::max(minutes, 1.0 / 60.0);  // under a second: count it as one second
  return static_cast<double>(st.finished) / minutes;
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

// ---- JSON ---------------------------------------------------------------------------

namespace {

using pretty_writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

template <class F>
std::string pretty(F&& write) {
  rapidjson::StringBuffer buf;
  pretty_writer w(buf);
  write(w);
  return std::string(buf.GetString(), buf.GetSize());
}

bool is_json_number(const std::string& v) {
  rapidjson::Document d;
  return parse_json(d, v).empty() && d.IsNumber();
}

}  // namespace

std::string jobs_json(const std::vector<job>& jobs) {
  return pretty([&](pretty_writer& w) {
    w.StartArray();
    for (const auto& j : jobs) write_job(w, j);
    w.EndArray();
  });
}

std::string job_json(const job& j, const std::vector<attempt_record>& attempts) {
  // The codec writes the job object; the attempts go in as one more member.
  auto compact = [](auto&& write) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    write(w);
    return std::string(b.GetString(), b.GetSize());
  };
  const std::string job_text = compact([&](auto& w) { write_job(w, j); });
  const std::string attempts_text = compact([&](auto& w) {
    w.StartArray();
    for (const auto& a : attempts) write_attempt(w, a);
    w.EndArray();
  });
  rapidjson::Document d;
  parse_json<rapidjson::kParseFullPrecisionFlag>(d, job_text);  // written just above: well-formed
  rapidjson::Document a(&d.GetAllocator());
  parse_json<rapidjson::kParseFullPrecisionFlag>(a, attempts_text);
  d.AddMember("history", rapidjson::Value(a, d.GetAllocator()), d.GetAllocator());
  return pretty([&](pretty_writer& w) { d.Accept(w); });
}

std::string attempts_json(const std::vector<attempt_record>& attempts) {
  return pretty([&](pretty_writer& w) {
    w.StartArray();
    for (const auto& a : attempts) write_attempt(w, a);
    w.EndArray();
  });
}

std::string status_json(const status_snapshot& s) {
  return pretty([&](pretty_writer& w) { write_status(w, s); });
}

std::string metrics_json(const metrics_snapshot& m) {
  return pretty([&](pretty_writer& w) { write_metrics(w, m); });
}

std::string config_json(const std::vector<config_entry>& entries) {
  return pretty([&](pretty_writer& w) {
    w.StartObject();
    for (const auto& e : entries) {
      write_string(w, e.key);
      if (is_json_number(e.value))
        w.RawValue(e.value.c_str(), e.value.size(), rapidjson::kNumberType);
      else
        write_string(w, e.value);
    }
    w.EndObject();
  });
}

}  // namespace queuectl::app
