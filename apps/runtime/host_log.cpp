#include "host_log.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "durations.hpp"
#include "json_output.hpp"
#include "queuectl/error.hpp"

namespace queuectl::app {

namespace {

/// --log-format json. Set before any thread starts.
bool json_log = false;

/// One write of whole lines to stderr: lines of concurrent slots never interleave, and
/// stderr's own lock is the only one taken.
void write_stderr(const std::string& lines) {
  std::fwrite(lines.data(), 1, lines.size(), stderr);
  std::fflush(stderr);
}

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Starts a JSON log line: {"ts": …, "pid": …, "event": …
void json_head(json_writer& w, time_point t, const char* event) {
  w.StartObject();
  w.Key("ts");
  write_string(w, to_rfc3339(t));
  w.Key("pid");
  w.Int(static_cast<int>(::getpid()));
  w.Key("event");
  w.String(event);
}

std::string json_line(const rapidjson::StringBuffer& b) { return std::string(b.GetString(), b.GetSize()) + "\n"; }

/// The text line prefix: `2026-11-22T13:41:40.123Z queuectl-host[42]: `.
std::string text_head(time_point t) {
  return to_rfc3339(t) + " queuectl-host[" + std::to_string(::getpid()) + "]: ";
}

/// The slot number: the lease owner is `<worker id>/<slot>` (worker_pool_options::owner_prefix).
std::optional<int> slot_of(const job& j) {
  const auto slash = j.lease_owner.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  int n = 0;
  const char* b = j.lease_owner.data() + slash + 1;
  const char* e = j.lease_owner.data() + j.lease_owner.size();
  auto [p, ec] = std::from_chars(b, e, n);
  if (ec != std::errc() || p != e || b == e) return std::nullopt;
  return n;
}

int max_attempts(const job& j) { return std::max(1, j.max_retries); }

std::string who(const job& j) {
  const auto slot = slot_of(j);
  return "slot " + (slot ? std::to_string(*slot) : std::string("-")) + ": job " + printable_line(j.id) + " attempt " +
         std::to_string(j.attempts) + " of " + std::to_string(max_attempts(j));
}

void ids(json_writer& w, const job& j, bool with_max = true) {
  w.Key("slot");
  if (const auto slot = slot_of(j)) w.Int(*slot);
  else w.Null();
  w.Key("job");
  write_string(w, printable_line(j.id));
  w.Key("attempt");
  w.Int(j.attempts);
  if (with_max) {
    w.Key("max_attempts");
    w.Int(max_attempts(j));
  }
}

template <class F>
void each_output_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::string output_line(const job& j, std::string_view line, time_point t) {
  if (json_log) {
    rapidjson::StringBuffer b;
    json_writer w(b);
    json_head(w, t, "output");
    ids(w, j, false);
    w.Key("line");
    write_string(w, printable_line(line));  // invalid UTF-8 and control characters escaped
    w.EndObject();
    return json_line(b);
  }
  return text_head(t) + "[" + printable_line(j.id) + "] " + printable_line(line) + "\n";
}

}  // namespace

void use_json_log(bool json) { json_log = json; }

void log_line(const std::string& msg) {
  if (json_log) {
    rapidjson::StringBuffer b;
    json_writer w(b);
    json_head(w, now(), "log");
    w.Key("message");
    write_string(w, printable_line(msg));
    w.EndObject();
    write_stderr(json_line(b));
    return;
  }
  // escaped: ids and values come from users
  write_stderr(text_head(now()) + printable_line(msg) + "\n");
}

// ---- attempt_log ------------------------------------------------------------------------

void attempt_log::started(const job& j) const noexcept {
  try {
    if (json_log) {
      rapidjson::StringBuffer b;
      json_writer w(b);
      json_head(w, now(), "start");
      ids(w, j);
      w.EndObject();
      write_stderr(json_line(b));
    } else {
      write_stderr(text_head(now()) + who(j) + " started\n");
    }
  } catch (...) {  // out of memory: the attempt runs on without its line
  }
}

void attempt_log::finished(const job& j, const attempt_result& r, attempt_outcome outcome, time_point started,
                           time_point finished) const noexcept {
  try {
    const auto took = std::chrono::duration_cast<milliseconds>(finished - started);
    std::string out;
    if (echo_) each_output_line(r.output, [&](std::string_view line) { out += output_line(j, line, finished); });
    if (json_log) {
      rapidjson::StringBuffer b;
      json_writer w(b);
      json_head(w, finished, "end");
      ids(w, j);
      w.Key("duration_ms");
      w.Int64(took.count());
      w.Key("outcome");
      write_string(w, to_string(outcome));
      w.Key("exit_code");
      if (r.exit_code) w.Int(*r.exit_code);
      else w.Null();
      w.Key("error");
      write_string(w, printable_line(r.error));
      w.EndObject();
      out.append(b.GetString(), b.GetSize());
    } else {
      const std::string code = r.exit_code ? std::to_string(*r.exit_code) : std::string("-");
      out += text_head(finished) + who(j) + " " + std::string(to_string(outcome)) + " after " + format_duration(took) +
             ", exit code " + code;
      // The reason, unless it only repeats the exit code (the shell executor's "exit code 3").
      if (!r.error.empty() && outcome != attempt_outcome::succeeded && r.error != "exit code " + code)
        out += ": " + printable_line(r.error);
    }
    out += '\n';
    write_stderr(out);
  } catch (...) {
  }
}

// ---- storage_trouble_log ----------------------------------------------------------------

void storage_trouble_log::failed(const std::exception& e) {
  if (const auto* qe = dynamic_cast<const error*>(&e); qe && qe->id() == "queuectl.storage.corrupt") {
    if (corrupt_.fetch_add(1) + 1 == corrupt_limit) {
      log_line("database is corrupt (" + std::to_string(corrupt_limit) + " failures): " + qe->message() +
               "; stopping (restore it from a backup or move it away)");
      ::kill(::getpid(), SIGTERM);  // the main thread's sigwait: a graceful stop, exit 1
    }
  }
  failed(std::string(e.what()));
}

void storage_trouble_log::failed(const std::string& why) {
  std::lock_guard lock(mu_);
  const auto t = std::chrono::steady_clock::now();
  ++unreported_;
  if (in_trouble_ && t - last_line_ < std::chrono::seconds(10)) return;
  log_line(std::string(in_trouble_ ? "database still failing" : "database error") + " (" +
           std::to_string(unreported_) + "x): " + why + "; retrying");
  in_trouble_ = true;
  last_line_ = t;
  unreported_ = 0;
}

void storage_trouble_log::succeeded() {
  std::lock_guard lock(mu_);
  if (!in_trouble_) return;
  in_trouble_ = false;
  unreported_ = 0;
  log_line("database reachable again");
}

}  // namespace queuectl::app
