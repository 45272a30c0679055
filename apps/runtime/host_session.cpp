#include "host_session.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "db_location.hpp"
#include "queuectl/error.hpp"
#include "queuectl/worker_pool.hpp"

namespace queuectl::app {

namespace {

/// The step's one line on stderr, then start_failure.
[[noreturn]] void fail(int exit_code, const std::string& why) {
  std::fprintf(stderr, "queuectl: %s\n", why.c_str());
  throw start_failure{exit_code};
}

/// Bad input is exit 2, anything else exit 1.
int exit_code_of(const error& e) { return e.kind() == error_kind::invalid_input ? 2 : 1; }

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

bool queue_drained(host_queue& q) {
  try {
    const state_counts c = q.counts();
    return at(c, job_state::pending) + at(c, job_state::failed) + at(c, job_state::processing) == 0;
  } catch (const error&) {
    return false;  // busy database: ask again next time
  }
}

timespec to_timespec(std::chrono::nanoseconds d) {
  return timespec{static_cast<time_t>(d.count() / 1000000000), static_cast<long>(d.count() % 1000000000)};
}

}  // namespace

// ---- the steps' own types ----------------------------------------------------------------

host_session::stop_signals::stop_signals() {
  sigemptyset(&stop_);
  sigaddset(&stop_, SIGINT);
  sigaddset(&stop_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_, nullptr);
  // Jobs start with a clean mask.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
}

int host_session::stop_signals::wait() {
  siginfo_t info{};
  while (::sigwaitinfo(&stop_, &info) < 0) {
  }
  return info.si_signo;
}

int host_session::stop_signals::wait_for(std::chrono::nanoseconds timeout) {
  siginfo_t info{};
  const timespec ts = to_timespec(timeout);
  return ::sigtimedwait(&stop_, &info, &ts) >= 0 ? info.si_signo : 0;
}

host_session::worker_registration::worker_registration(host_queue& queue, worker_info who)
    : q(queue), me(std::move(who)) {
  try {
    q.register_worker(me);
  } catch (const error& e) {
    fail(1, e.what());
  }
}

host_session::worker_registration::~worker_registration() {
  try {
    q.unregister_worker(me.id);
  } catch (const std::exception&) {  // the row lapses: `status` shows it stale, then gone
  }
}

host_session::slots_stop::~slots_stop() {
  slots.shutdown();  // at once when done already
  if (at != when::last) return;
  if (const std::size_t stuck = slots.stuck_calls(); stuck > 0) {
    // Destroying the executors under a call still running in them would crash: leave now.
    log_line("stopped (" + std::to_string(stuck) + " abandoned executor call(s) still running; exiting without them)");
    std::fflush(nullptr);
    ::_exit(0);
  }
}

// ---- steps done by the member initializers ---------------------------------------------

host_session::loaded_plugins host_session::load(const runtime_options& opts) {
  try {
    plugin_load_options lo;
    lo.dirs = opts.plugin_dirs;
    const auto mode = parse_isolation_mode(opts.isolate);
    if (!mode)
      throw error(error_kind::invalid_input, "queuectl.host.isolate",
                  "--isolate must be none, third-party or all, got '" + opts.isolate + "'");
    lo.isolate = *mode;
    lo.log = log_line;
    loaded_plugins out;
    out.plugins = load_plugins(opts.plugins, lo);
    out.exporter_options = plugin_options_for(out.plugins, opts);
    if (std::string why = out.plugins.executors.configure(opts.plugin_options); !why.empty())
      throw error(error_kind::invalid_input, "queuectl.plugin.bad_option", why);
    return out;
  } catch (const error& e) {
    fail(2, e.what());
  }
}

bool host_session::detach(const runtime_options& opts, plugin_executor& executors) {
  if (!opts.daemon) return false;
  daemonize(opts.log_file);
  executors.after_fork();
  return true;
}

std::unique_ptr<host_queue> host_session::open_queue(const runtime_options& opts, plugin_executor executors,
                                                     storage_trouble_log& trouble) {
  try {
    return open_host_queue(opts.db, std::move(executors), static_cast<std::size_t>(opts.workers) + 2,
                           [&trouble](const std::string& why) { trouble.failed(why); });
  } catch (const error& e) {
    fail(exit_code_of(e), e.what());
  }
}

std::unique_ptr<web::web_service> host_session::serve_http(const runtime_options& opts, host_queue& q,
                                                           web::worker_control& workers) {
  if (!opts.http_bind) return nullptr;
  // It shares the workers' queue: a second sqlite_storage on the same file in this process
  // would drop its SQLite locks.
  web::web_options wopts;
  wopts.bind = *opts.http_bind;
  if (opts.token) wopts.token = *opts.token;
  wopts.allowed_hosts = opts.allowed_hosts;
  wopts.workers = &workers;
  std::unique_ptr<web::web_service> web;
  try {
    web = web::start_web_service(q, wopts);
  } catch (const error& e) {
    fail(exit_code_of(e), e.what());
  }
  log_line("dashboard and REST API on " + web->url());
  return web;
}

worker_info host_session::identity(const runtime_options& opts, host_queue& q) {
  // The workers claim only jobs of these executors (status shows the rest).
  worker_info me = new_worker_identity(q.executor().names());
  me.slots = opts.workers;
  return me;
}

host_session::host_session(const runtime_options& opts, const attempt_log* attempts, storage_trouble_log& trouble)
    : opts_(opts),
      attempts_(attempts),
      trouble_(trouble),
      plugins_(load(opts)),
      detached_(detach(opts, plugins_.plugins.executors)),
      queue_(open_queue(opts, std::move(plugins_.plugins.executors), trouble)),
      slots_(*queue_),
      last_stop_(slots_, slots_stop::when::last),
      web_(serve_http(opts, *queue_, slots_)),
      registration_(*queue_, identity(opts, *queue_)),
      exporters_(std::move(plugins_.plugins.exporters)) {
  start_exporters();
  // Which plugins run, from where, in-process or isolated (after the last check that can
  // refuse a plugin, so that a refusal stays a single line).
  for (const auto& line : plugins_.plugins.report) log_line(line);
  start_slots();
}

// ---- steps done by the constructor's body ----------------------------------------------

void host_session::start_exporters() {
  if (std::string why = exporters_.start(registration_.me, plugins_.exporter_options); !why.empty()) fail(2, why);
}

void host_session::start_slots() {
  host_queue& q = *queue_;
  worker_pool_options wo;
  wo.threads = opts_.workers;
  wo.owner_prefix = registration_.me.id;
  wo.queues = opts_.queues;
  wo.executors = registration_.me.executors;
  wo.on_storage_error = [this](const std::exception& e) { trouble_.failed(e); };
  // After worker_slots renewed this process's registry row.
  wo.on_tick = [this] {
    trouble_.succeeded();
    queue_->reload_config();  // pick up `queuectl config set` from other processes
    if (!exporters_.empty())
      exporters_.snapshot(queue_->counts_by_queue(), slots_.busy(), static_cast<std::size_t>(slots_.slots()));
  };
  if (!exporters_.empty() || attempts_) {
    wo.on_start = [this](const job& j) {
      if (attempts_) attempts_->started(j);
      if (!exporters_.empty()) exporters_.attempt_started(j);
    };
    wo.on_finish = [this](const job& j, const attempt_result& r, attempt_outcome outcome, time_point started,
                          time_point finished) {
      if (attempts_) attempts_->finished(j, r, outcome, started, finished);
      if (!exporters_.empty()) exporters_.attempt_finished(j, r, outcome, started, finished);
    };
  }
  watch_ = watch_for_jobs(opts_.db, [&q] { q.wake().notify(); });
  // Every enqueue, retry and requeue is announced (docs/deploy.md, "Wake-ups"), and idle
  // slots also wake when the next job is due: the poll is only a safety net.
  if (watch_->announces_jobs()) wo.idle_poll = std::chrono::seconds(30);
  // The pool enforces every job's deadline and abandons an executor call that does not
  // return within abandon_grace of its stop (docs/plugins.md, "Timeouts and cancel").
  // An isolated executor's helper process is killed, so its call returns now (its late
  // result is discarded: the pool recorded the attempt); an in-process call runs on.
  wo.on_abandon = [&q](const job& j, const std::string& owner) {
    const bool killed = q.executor().abandon(j.id, "abandoned: the executor did not return after being stopped");
    log_line("job " + j.id + " (" + owner + "): executor '" + j.executor +
             "' did not return after being stopped; attempt abandoned" + (killed ? " (helper process killed)" : ""));
  };
  slots_.configure(registration_.me, wo, log_line);
  running_.emplace(slots_, slots_stop::when::running);
  try {
    slots_.start(opts_.workers);
  } catch (const error& e) {
    fail(1, e.what());
  }
  log_line("started " + std::to_string(opts_.workers) + " worker(s) on " + display_db(opts_.db) + " (wake-up: " +
           watch_->how() + ")");
}

// ---- the run -----------------------------------------------------------------------------

void host_session::run() {
  wait_for_stop_request();
  stop_slots();
}

void host_session::wait_for_stop_request() {
  if (opts_.drain) {
    // Batch mode: check every 20 ms whether anything is left to do.
    while (true) {
      if (const int sig = signals_.wait_for(std::chrono::milliseconds(20))) {
        log_line(std::string("received ") + ::strsignal(sig) + ": finishing running jobs");
        return;
      }
      if (queue_drained(*queue_)) {
        log_line("queue drained");
        return;
      }
    }
  }
  const int sig = signals_.wait();
  log_line(std::string("received ") + ::strsignal(sig) + ": finishing running jobs, claiming nothing new");
}

void host_session::stop_slots() {
  // Running jobs finish. A second signal or stop-timeout: stop them and hand them back
  // unattempted.
  slots_.close();
  const auto deadline = std::chrono::steady_clock::now() + saturating_ms(queue_->config().stop_timeout_seconds);
  bool stopped = false;
  while (!stopped) {
    if (slots_.wait_stopped_for(std::chrono::milliseconds(0))) {
      stopped = true;
      break;
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0)) break;
    if (signals_.wait_for(std::min<std::chrono::nanoseconds>(left, std::chrono::milliseconds(20)))) {
      log_line("second signal: stopping running jobs now");
      break;
    }
  }
  if (!stopped) {
    if (std::chrono::steady_clock::now() >= deadline) log_line("stop-timeout reached: stopping running jobs");
    slots_.abort_running();
  }
  slots_.join();
}

}  // namespace queuectl::app
