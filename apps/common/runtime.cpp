// The worker runtime shared by queuectl-host and `queuectl worker start`.
#include "runtime.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>

#include "db_location.hpp"
#include "exporter_set.hpp"
#include "host_queue.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/worker_pool.hpp"
#include "web_service.hpp"
#include "worker_slots.hpp"

namespace queuectl::app {

namespace {

void log_line(const std::string& msg) {
  std::fprintf(stderr, "%s queuectl-host[%d]: %s\n", to_rfc3339(now()).c_str(), static_cast<int>(::getpid()),
               printable_line(msg).c_str());  // escaped: ids and values come from users
  std::fflush(stderr);
}

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
    q.storage().upsert_worker(me);
  } catch (const error& e) {
    std::fprintf(stderr, "queuectl: %s\n", e.what());
    return 1;
  }
  exporter_set exporters(std::move(plugins.exporters));
  if (std::string why = exporters.start(me, exporter_options); !why.empty()) {
    std::fprintf(stderr, "queuectl: %s\n", why.c_str());
    q.storage().remove_worker(me.id);
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
      exporters.snapshot(q.storage().counts_by_queue(), slots.busy(), static_cast<std::size_t>(slots.slots()));
  };
  if (!exporters.empty()) {
    wo.on_start = [&exporters](const job& j) { exporters.attempt_started(j); };
    wo.on_finish = [&exporters](const job& j, const attempt_result& r, attempt_outcome outcome, time_point started,
                                time_point finished) { exporters.attempt_finished(j, r, outcome, started, finished); };
  }
  const auto watch = watch_for_jobs(q, opts.db, [&q] { q.wake().notify(); });
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
    q.storage().remove_worker(me.id);
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
    q.storage().remove_worker(me.id);
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
