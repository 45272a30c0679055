// The worker runtime shared by queuectl-host and `queuectl worker start`.
#include "runtime.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "db_location.hpp"
#include "exporter_set.hpp"
#include "host_queue.hpp"
#include "output.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/worker_pool.hpp"
#include "web_service.hpp"
#include "worker_slots.hpp"

namespace queuectl::app {

namespace {

/// --log-format json: every line logged is a JSON object. Set before any thread starts.
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

/// The text line prefix: `2026-11-22T13:41:40.123Z queuectl-host[42]: `.
std::string text_head(time_point t) {
  return to_rfc3339(t) + " queuectl-host[" + std::to_string(::getpid()) + "]: ";
}

void log_line(const std::string& msg) {
  if (json_log) {
    rapidjson::StringBuffer b;
    json_writer w(b);
    json_head(w, now(), "log");
    w.Key("message");
    write_string(w, printable_line(msg));
    w.EndObject();
    write_stderr(std::string(b.GetString(), b.GetSize()) + "\n");
    return;
  }
  // escaped: ids and values come from users
  write_stderr(text_head(now()) + printable_line(msg) + "\n");
}

/// The attempt lines of docs/cli.md, "Worker log lines": start, the job's output (with
/// --echo-output, from what the executor captured) and end. One write per event.
class attempt_log {
 public:
  explicit attempt_log(bool echo_output) : echo_(echo_output) {}

  void started(const job& j) const noexcept {
    try {
      if (json_log) {
        rapidjson::StringBuffer b;
        json_writer w(b);
        json_head(w, now(), "start");
        ids(w, j);
        w.EndObject();
        write_stderr(std::string(b.GetString(), b.GetSize()) + "\n");
      } else {
        write_stderr(text_head(now()) + who(j) + " started\n");
      }
    } catch (...) {  // out of memory: the attempt runs on without its line
    }
  }

  void finished(const job& j, const attempt_result& r, attempt_outcome outcome, time_point started,
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

 private:
  /// The slot number: the lease owner is `<worker id>/<slot>` (worker_pool_options::owner_prefix).
  static std::optional<int> slot_of(const job& j) {
    const auto slash = j.lease_owner.rfind('/');
    if (slash == std::string::npos) return std::nullopt;
    int n = 0;
    const char* b = j.lease_owner.data() + slash + 1;
    const char* e = j.lease_owner.data() + j.lease_owner.size();
    auto [p, ec] = std::from_chars(b, e, n);
    if (ec != std::errc() || p != e || b == e) return std::nullopt;
    return n;
  }
  static int max_attempts(const job& j) { return std::max(1, j.max_retries); }

  static std::string who(const job& j) {
    const auto slot = slot_of(j);
    return "slot " + (slot ? std::to_string(*slot) : std::string("-")) + ": job " + printable_line(j.id) + " attempt " +
           std::to_string(j.attempts) + " of " + std::to_string(max_attempts(j));
  }

  static void ids(json_writer& w, const job& j, bool with_max = true) {
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
  static void each_output_line(std::string_view text, F&& f) {
    while (!text.empty()) {
      const auto nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      f(line);
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
  }

  static std::string output_line(const job& j, std::string_view line, time_point t) {
    if (json_log) {
      rapidjson::StringBuffer b;
      json_writer w(b);
      json_head(w, t, "output");
      ids(w, j, false);
      w.Key("line");
      write_string(w, printable_line(line));  // invalid UTF-8 and control characters escaped
      w.EndObject();
      return std::string(b.GetString(), b.GetSize()) + "\n";
    }
    return text_head(t) + "[" + printable_line(j.id) + "] " + printable_line(line) + "\n";
  }

  bool echo_;
};

/// Detaches from the terminal (before any thread exists): double fork, new session,
/// output to the log file (created 0600) or /dev/null.
void daemonize(const std::optional<std::string>& log_file) {
  if (pid_t pid = ::fork(); pid < 0) throw error(error_kind::runtime, "queuectl.host.fork", std::strerror(errno));
  else if (pid > 0) ::_exit(0);
  ::setsid();
  if (pid_t pid = ::fork(); pid < 0) ::_exit(1);
  else if (pid > 0) ::_exit(0);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out = log_file ? ::open(log_file->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)
                           : ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (in >= 0) ::dup2(in, 0);
  if (out >= 0) {
    ::dup2(out, 1);
    ::dup2(out, 2);
  }
}

bool queue_drained(host_queue& q) {
  try {
    const state_counts c = q.counts();
    return at(c, job_state::pending) + at(c, job_state::failed) + at(c, job_state::processing) == 0;
  } catch (const error&) {
    return false;  // busy database: ask again next time
  }
}

/// Logs storage failures (a database outage) without flooding: the first one, then at
/// most one line per 10 s with how many were not shown, and one line when it is over.
class storage_trouble_log {
 public:
  /// Corrupt-database errors (queuectl.storage.corrupt) before the host gives up: a damaged
  /// file does not heal by waiting, unlike a lock or an outage (docs/deploy.md).
  static constexpr int corrupt_limit = 5;
  void failed(const std::exception& e) {
    if (const auto* qe = dynamic_cast<const error*>(&e); qe && qe->id() == "queuectl.storage.corrupt") {
      if (corrupt_.fetch_add(1) + 1 == corrupt_limit) {
        log_line("database is corrupt (" + std::to_string(corrupt_limit) + " failures): " + qe->message() +
                 "; stopping (restore it from a backup or move it away)");
        ::kill(::getpid(), SIGTERM);  // the main thread's sigwait: a graceful stop, exit 1
      }
    }
    failed(std::string(e.what()));
  }
  bool gave_up() const { return corrupt_.load() >= corrupt_limit; }
  void failed(const std::string& why) {
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
  void succeeded() {
    std::lock_guard lock(mu_);
    if (!in_trouble_) return;
    in_trouble_ = false;
    unreported_ = 0;
    log_line("database reachable again");
  }

 private:
  std::mutex mu_;
  bool in_trouble_ = false;
  std::size_t unreported_ = 0;
  std::chrono::steady_clock::time_point last_line_{};
  std::atomic<int> corrupt_{0};
};

/// Checks that every --plugin-opt names a loaded plugin, and returns the exporters'
/// options: their own, plus the host's token as `token` unless they have their own.
std::map<std::string, std::map<std::string, std::string>> plugin_options_for(const host_plugins& plugins,
                                                                            const runtime_options& opts) {
  std::string loaded;
  for (const auto& n : plugins.names) loaded += (loaded.empty() ? "" : ", ") + n;
  for (const auto& [name, kv] : opts.plugin_options)
    if (std::find(plugins.names.begin(), plugins.names.end(), name) == plugins.names.end())
      throw error(error_kind::invalid_input, "queuectl.plugin.unknown_plugin",
                  "--plugin-opt " + name + "." + (kv.empty() ? std::string() : kv.begin()->first) +
                      ": no plugin named '" + name + "' is loaded (loaded: " + loaded + ")");
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& e : plugins.exporters) {
    const std::string name(e->name());
    auto& mine = out[name];
    if (auto it = opts.plugin_options.find(name); it != opts.plugin_options.end()) mine = it->second;
    if (opts.token && !mine.count("token")) mine["token"] = *opts.token;
    // Listening exporters (prometheus) apply the same Host rule as --http (docs/security.md).
    if (!opts.allowed_hosts.empty() && !mine.count("allowed-hosts")) {
      std::string list;
      for (const auto& h : opts.allowed_hosts) list += (list.empty() ? "" : ",") + h;
      mine["allowed-hosts"] = list;
    }
  }
  return out;
}

}  // namespace

int run_runtime(const runtime_options& opts) {
  if (!bounds::worker_slots.contains(opts.workers)) {
    std::fprintf(stderr, "queuectl: --workers must be between 1 and 1024, got %d\n", opts.workers);
    return 2;
  }
  if (opts.log_format != "text" && opts.log_format != "json") {
    std::fprintf(stderr, "queuectl: --log-format must be text or json, got '%s'\n",
                 printable_line(opts.log_format).c_str());
    return 2;
  }
  if (opts.quiet && opts.echo_output) {
    std::fprintf(stderr, "queuectl: give either --quiet or --echo-output, not both\n");
    return 2;
  }
  json_log = opts.log_format == "json";
  const attempt_log attempts(opts.echo_output);
  const attempt_log* alog = opts.quiet ? nullptr : &attempts;
  // Plugins load before anything is stored or detached, so a bad plugin is a clean exit 2.
  host_plugins plugins;
  std::map<std::string, std::map<std::string, std::string>> exporter_options;
  try {
    plugin_load_options lo;
    lo.dirs = opts.plugin_dirs;
    const auto mode = parse_isolation_mode(opts.isolate);
    if (!mode)
      throw error(error_kind::invalid_input, "queuectl.host.isolate",
                  "--isolate must be none, third-party or all, got '" + opts.isolate + "'");
    lo.isolate = *mode;
    lo.log = log_line;
    plugins = load_plugins(opts.plugins, lo);
    exporter_options = plugin_options_for(plugins, opts);
    if (std::string why = plugins.executors.configure(opts.plugin_options); !why.empty())
      throw error(error_kind::invalid_input, "queuectl.plugin.bad_option", why);
  } catch (const error& e) {
    std::fprintf(stderr, "queuectl: %s\n", e.what());
    return 2;
  }
  if (opts.daemon) {
    daemonize(opts.log_file);
    plugins.executors.after_fork();
  }

  // Signals are taken synchronously by this thread; every thread started below inherits
  // the blocked mask, so jobs' own signals never reach the workers.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // A log line to a stderr nobody reads any more (`… 2>&1 | head`, a restarted journal) fails
  // with EPIPE instead of killing the host between two attempts. Jobs start with a clean mask.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);

  storage_trouble_log trouble;
  std::unique_ptr<host_queue> queue;
  try {
    queue = open_host_queue(opts.db, std::move(plugins.executors), static_cast<std::size_t>(opts.workers) + 2,
                            [&trouble](const std::string& why) { trouble.failed(why); });
  } catch (const error& e) {
    std::fprintf(stderr, "queuectl: %s\n", e.what());
    return e.kind() == error_kind::invalid_input ? 2 : 1;
  }
  host_queue& q = *queue;
  // This process's slots: started below, resized or stopped by /worker/start and /worker/stop.
  worker_slots slots(q);

  // --http: REST API + dashboard, up before any worker runs. They share the workers' queue:
  // a second sqlite_storage on the same file in this process would drop its SQLite locks.
  std::unique_ptr<web::web_service> web;
  if (opts.http_bind) {
    web::web_options wopts;
    wopts.bind = *opts.http_bind;
    if (opts.token) wopts.token = *opts.token;
    wopts.allowed_hosts = opts.allowed_hosts;
    wopts.workers = &slots;
    try {
      web = web::start_web_service(q, wopts);
    } catch (const error& e) {
      std::fprintf(stderr, "queuectl: %s\n", e.what());
      return e.kind() == error_kind::invalid_input ? 2 : 1;
    }
    log_line("dashboard and REST API on " + web->url());
  }

  // The workers claim only jobs of these executors (status shows the rest).
  worker_info me = new_worker_identity(q.executor().names());
  me.slots = opts.workers;
  try {
    q.register_worker(me);
  } catch (const error& e) {
    std::fprintf(stderr, "queuectl: %s\n", e.what());
    return 1;
  }
  exporter_set exporters(std::move(plugins.exporters));
  if (std::string why = exporters.start(me, exporter_options); !why.empty()) {
    std::fprintf(stderr, "queuectl: %s\n", why.c_str());
    q.unregister_worker(me.id);
    return 2;
  }
  // Which plugins run, from where, in-process or isolated (after the last check that can
  // refuse a plugin, so that a refusal stays a single line).
  for (const auto& line : plugins.report) log_line(line);

  worker_pool_options wo;
  wo.threads = opts.workers;
  wo.owner_prefix = me.id;
  wo.queues = opts.queues;
  wo.executors = me.executors;
  wo.on_storage_error = [&trouble](const std::exception& e) { trouble.failed(e); };
  // After worker_slots renewed this process's registry row.
  wo.on_tick = [&q, &exporters, &slots, &trouble]() {
    trouble.succeeded();
    q.reload_config();  // pick up `queuectl config set` from other processes
    if (!exporters.empty())
      exporters.snapshot(q.counts_by_queue(), slots.busy(), static_cast<std::size_t>(slots.slots()));
  };
  if (!exporters.empty() || alog) {
    wo.on_start = [&exporters, alog](const job& j) {
      if (alog) alog->started(j);
      if (!exporters.empty()) exporters.attempt_started(j);
    };
    wo.on_finish = [&exporters, alog](const job& j, const attempt_result& r, attempt_outcome outcome,
                                      time_point started, time_point finished) {
      if (alog) alog->finished(j, r, outcome, started, finished);
      if (!exporters.empty()) exporters.attempt_finished(j, r, outcome, started, finished);
    };
  }
  const auto watch = watch_for_jobs(opts.db, [&q] { q.wake().notify(); });
  // Every enqueue, retry and requeue is announced (docs/deploy.md, "Wake-ups"), and idle
  // slots also wake when the next job is due: the poll is only a safety net.
  if (watch->announces_jobs()) wo.idle_poll = std::chrono::seconds(30);
  // The pool enforces every job's deadline and abandons an executor call that does not
  // return within abandon_grace of its stop (docs/plugins.md, "Timeouts and cancel").
  // An isolated executor's helper process is killed, so its call returns now (its late
  // result is discarded: the pool recorded the attempt); an in-process call runs on.
  wo.on_abandon = [&q](const job& j, const std::string& owner) {
    const bool killed = q.executor().abandon(j.id, "abandoned: the executor did not return after being stopped");
    log_line("job " + j.id + " (" + owner + "): executor '" + j.executor +
             "' did not return after being stopped; attempt abandoned" + (killed ? " (helper process killed)" : ""));
  };
  slots.configure(me, wo, log_line);
  try {
    slots.start(opts.workers);
  } catch (const error& e) {
    std::fprintf(stderr, "queuectl: %s\n", e.what());
    q.unregister_worker(me.id);
    return 1;
  }
  log_line("started " + std::to_string(opts.workers) + " worker(s) on " + display_db(opts.db) + " (wake-up: " +
           watch->how() + ")");

  // First signal: graceful stop. Second signal or stop-timeout: stop the running jobs
  // and hand them back unattempted.
  siginfo_t info{};
  if (opts.drain) {
    // Batch mode: check every 20 ms whether anything is left to do.
    const timespec slice{0, 20 * 1000 * 1000};
    while (true) {
      if (::sigtimedwait(&stop_signals, &info, &slice) >= 0) {
        log_line(std::string("received ") + ::strsignal(info.si_signo) + ": finishing running jobs");
        break;
      }
      if (queue_drained(q)) {
        log_line("queue drained");
        break;
      }
    }
  } else {
    while (::sigwaitinfo(&stop_signals, &info) < 0) {
    }
    log_line(std::string("received ") + ::strsignal(info.si_signo) + ": finishing running jobs, claiming nothing new");
  }
  slots.close();
  const auto stop_timeout = saturating_ms(q.config().stop_timeout_seconds);
  const auto deadline = std::chrono::steady_clock::now() + stop_timeout;
  bool stopped = false;
  while (!stopped) {
    if (slots.wait_stopped_for(std::chrono::milliseconds(0))) {
      stopped = true;
      break;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0)) break;
    const auto slice = std::min<std::chrono::nanoseconds>(left, std::chrono::milliseconds(20));
    timespec ts{static_cast<time_t>(slice.count() / 1000000000), static_cast<long>(slice.count() % 1000000000)};
    if (::sigtimedwait(&stop_signals, &info, &ts) >= 0) {
      log_line("second signal: stopping running jobs now");
      break;
    }
  }
  if (!stopped) {
    if (std::chrono::steady_clock::now() >= deadline) log_line("stop-timeout reached: stopping running jobs");
    slots.abort_running();
  }
  slots.join();
  web.reset();
  exporters.stop();
  try {
    q.unregister_worker(me.id);
  } catch (const error&) {
  }
  if (const std::size_t stuck = slots.stuck_calls(); stuck > 0) {
    // Destroying the executors under a call still running in them would crash: leave now.
    log_line("stopped (" + std::to_string(stuck) + " abandoned executor call(s) still running; exiting without them)");
    std::fflush(nullptr);
    ::_exit(0);
  }
  log_line("stopped");
  return trouble.gave_up() ? 1 : 0;
}

}  // namespace queuectl::app
