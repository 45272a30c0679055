// One run of the worker host (`queuectl-host`, `queuectl worker start`) as an object: each
// member is one start-up step, set up in the order declared and undone by its destructor
// in reverse order — after a clean stop, when a later step fails, and when anything throws.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "exporter_set.hpp"
#include "host_log.hpp"
#include "host_queue.hpp"
#include "runtime.hpp"
#include "web_service.hpp"
#include "worker_slots.hpp"

namespace queuectl::app {

/// A start-up step failed. Its one line is on stderr already; run_runtime returns `exit_code`
/// (2: bad options or plugin, 1: a runtime failure).
struct start_failure {
  int exit_code;
};

class host_session {
 public:
  /// Loads the plugins, detaches (--daemon), opens the queue, serves --http, registers this
  /// process, starts the exporters and opts.workers slots. `attempts` (null: --quiet) and
  /// `trouble` must outlive the session. Throws start_failure, every step done so far undone.
  host_session(const runtime_options& opts, const attempt_log* attempts, storage_trouble_log& trouble);
  host_session(const host_session&) = delete;
  host_session& operator=(const host_session&) = delete;
  /// The slots are stopped first, then the rest in reverse order; if an abandoned executor
  /// call is still running, the process exits (0) before the executors are destroyed.
  ~host_session() = default;

  /// Works until SIGINT/SIGTERM (with --drain: also until nothing is pending, failed or
  /// processing), then stops the slots gracefully: running jobs finish; after
  /// stop-timeout-seconds or a second signal they are stopped and handed back.
  void run();

 private:
  using plugin_option_map = std::map<std::string, std::map<std::string, std::string>>;
  /// What --plugin loaded, with each exporter's options.
  struct loaded_plugins {
    host_plugins plugins;
    plugin_option_map exporter_options;
  };

  /// SIGINT and SIGTERM are taken synchronously (blocked in every thread, which all start
  /// after this one is made: jobs' own signals never reach the workers), and SIGPIPE is
  /// blocked so that a log line to a stderr nobody reads any more fails with EPIPE instead
  /// of killing the host. Not undone: the process ends after the session, and unblocking
  /// would let a signal sent during the shutdown kill it instead of letting it exit.
  class stop_signals {
   public:
    stop_signals();
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;
    /// Waits for SIGINT or SIGTERM; returns it.
    int wait();
    /// Waits at most `timeout`; the signal, or 0.
    int wait_for(std::chrono::nanoseconds timeout);

   private:
    sigset_t stop_;
  };

  /// This process's row in the worker registry (`queuectl status`), removed when destroyed.
  struct worker_registration {
    worker_registration(host_queue& q, worker_info me);  ///< throws start_failure (exit 1)
    ~worker_registration();
    worker_registration(const worker_registration&) = delete;
    worker_registration& operator=(const worker_registration&) = delete;
    host_queue& q;
    worker_info me;
  };

  /// Stops the slots (worker_slots::shutdown): first of all (`running`, the slots started),
  /// and once more right above the queue (`last`, for slots a failed start left running),
  /// where an abandoned executor call still running makes the process exit at once.
  struct slots_stop {
    enum class when { running, last };
    slots_stop(worker_slots& s, when w) : slots(s), at(w) {}
    ~slots_stop();
    slots_stop(const slots_stop&) = delete;
    slots_stop& operator=(const slots_stop&) = delete;
    worker_slots& slots;
    when at;
  };

  static loaded_plugins load(const runtime_options& opts);
  static bool detach(const runtime_options& opts, plugin_executor& executors);
  static std::unique_ptr<host_queue> open_queue(const runtime_options& opts, plugin_executor executors,
                                                storage_trouble_log& trouble);
  static std::unique_ptr<web::web_service> serve_http(const runtime_options& opts, host_queue& q,
                                                      web::worker_control& workers);
  static worker_info identity(const runtime_options& opts, host_queue& q);

  void start_exporters();
  void start_slots();
  void wait_for_stop_request();
  void stop_slots();

  const runtime_options& opts_;
  const attempt_log* attempts_;
  storage_trouble_log& trouble_;
  // The steps, in order.
  loaded_plugins plugins_;                  // before anything is stored or detached (exit 2)
  bool detached_;                           // --daemon (before any thread starts; not undone)
  stop_signals signals_;
  std::unique_ptr<host_queue> queue_;       // gets the executors (exit 2 or 1)
  worker_slots slots_;                      // nothing runs yet (/worker/start: not ready)
  slots_stop last_stop_;
  std::unique_ptr<web::web_service> web_;   // --http, up before any worker runs (exit 2 or 1)
  worker_registration registration_;        // (exit 1)
  exporter_set exporters_;                  // started in the constructor's body (exit 2)
  std::unique_ptr<job_watch> watch_;        // wake-ups
  std::optional<slots_stop> running_;       // the slots started (exit 1): stopped first
};

}  // namespace queuectl::app
