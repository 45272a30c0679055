// This process's worker slots as one object that can be started, resized and stopped
// while the process runs: `queuectl-host` runs its --workers through it, and
// /worker/start, /worker/stop (docs/dashboard.md, "Coming from another QueueCTL") drive
// it from the web component through web::worker_control.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "host_queue.hpp"
#include "queuectl/worker_pool.hpp"
#include "worker_control.hpp"

namespace queuectl::app {

/// A fresh registry row for this process: hostname, pid, an id unique to this start
/// ("host:pid:random"), started now, claiming jobs of `executors`.
worker_info new_worker_identity(std::vector<std::string> executors);

/// What signal_local_workers did.
struct signalled_workers {
  std::set<std::int64_t> pids;  ///< sent SIGTERM
  std::size_t other_hosts = 0;  ///< registered from another host: not signalled
};
/// `queuectl worker stop`: SIGTERM (a graceful stop) to every worker process of `q`
/// registered from this host, except this process and pids that are not queuectl's.
signalled_workers signal_local_workers(host_queue& q);
/// The process exited (or exited and is not reaped yet).
bool process_has_exited(std::int64_t pid);
/// The executor plugins a worker runs by default: shell, and http where it is installed.
std::vector<std::string> default_executor_plugins(const std::vector<std::string>& plugin_dirs);

/// N slots as a set of worker_pools: growing adds a pool, shrinking stops the newest
/// pools gracefully (their running jobs finish; after stop-timeout-seconds they are
/// stopped and handed back) and tops up. The registry row (`queuectl status`) shows the
/// slots claiming jobs, or while only stopped ones still run a job, those; it is removed
/// when none is left. Thread-safe.
class worker_slots final : public web::worker_control {
 public:
  explicit worker_slots(host_queue& q);
  ~worker_slots() override;  ///< shutdown()
  worker_slots(const worker_slots&) = delete;
  worker_slots& operator=(const worker_slots&) = delete;

  /// Before the first start(): this process's row (`slots` is set here) and the pools'
  /// options (threads and owner_prefix are set here; `base.on_tick` runs after each
  /// heartbeat of the row, one at a time). Until then start() is refused (conflict).
  /// `log`: where starts, stops and resizes are logged (default: stderr).
  void configure(worker_info me, worker_pool_options base, std::function<void(const std::string&)> log = {});

  web::worker_slots_state start(int n) override;
  web::worker_stop_report stop() override;
  web::worker_slots_state state() const override;

  /// The process is stopping: every slot stops claiming (running jobs finish) and start()
  /// is refused from now on.
  void close();
  /// After close(): true once every slot has finished within `timeout`.
  bool wait_stopped_for(std::chrono::milliseconds timeout);
  /// Stops the running jobs and hands them back unattempted (implies close()).
  void abort_running();
  /// Waits for every slot (bounded once abort_running() was called).
  void join();
  /// close(), then abort_running() if they have not finished within stop-timeout-seconds,
  /// then join(). At once when they are stopped already.
  void shutdown();
  /// After join(): abandoned executor calls still running (see worker_pool::stuck_calls).
  std::size_t stuck_calls() const;

  int slots() const;         ///< slots claiming jobs
  std::size_t busy() const;  ///< slots running a job (stopping ones included)

 private:
  using pool = worker_pool<host_queue>;
  struct retiring {
    std::unique_ptr<pool> p;
    std::chrono::steady_clock::time_point deadline;  ///< then abort_running()
    bool aborted = false;
  };
  void add_pool(int threads);            // under mu_
  void retire(std::unique_ptr<pool> p);  // under mu_
  void update_row();                     // under mu_
  void reap_loop(std::stop_token st);
  int active_slots() const;     // under mu_
  int finishing_slots() const;  // under mu_

  host_queue& q_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  bool configured_ = false;
  bool closed_ = false;
  bool registered_ = false;
  worker_info me_;
  worker_pool_options base_;
  std::function<void(const std::string&)> log_;
  int generation_ = 0;
  std::vector<std::unique_ptr<pool>> active_;
  std::vector<retiring> retiring_;
  std::size_t stuck_ = 0;
  std::mutex tick_mu_;
  std::jthread reaper_;
};

/// `queuectl dashboard`'s worker slots on `q` (opened from `db`): nothing runs until
/// /worker/start; the first start loads the default executor plugins (shell, and http
/// where installed) into `q`'s executor and registers this process as a worker.
std::unique_ptr<web::worker_control> on_demand_workers(host_queue& q, std::string db);

}  // namespace queuectl::app
