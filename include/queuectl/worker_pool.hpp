/// @file
/// @brief N worker threads over a basic_queue, with lease heartbeats, prompt cancel,
/// enforced timeouts and graceful stop.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "queuectl/detail/running_attempt.hpp"
#include "queuectl/execution_context.hpp"
#include "queuectl/job.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"
#include "queuectl/wake_signal.hpp"

namespace queuectl {

/// @brief Settings of a worker_pool.
struct worker_pool_options {
  int threads = 1;
  /// Prefix of every lease owner; slot i owns leases as `<owner_prefix>/<i>`. Must be
  /// unique per process (e.g. host:pid:start) so a crashed process's leases are not reused.
  std::string owner_prefix = "worker";
  std::vector<std::string> queues;  ///< empty: all queues
  /// Claim only jobs of these executors (claim_request::executors): a host passes the
  /// executor plugins it loaded. nullopt: any executor.
  std::optional<std::vector<std::string>> executors;
  /// With wake-ups pushed by the database (LISTEN/NOTIFY), how long an idle slot sleeps
  /// at most: it wakes on a notification, or when the next waiting job is due (next_due),
  /// so this is only a safety net. 0: poll every poll-interval-ms.
  std::chrono::milliseconds idle_poll{0};
  /// Called on every heartbeat tick (e.g. to refresh the process's registry row).
  std::function<void()> on_tick;
  /// Called when an attempt starts / ends (metrics exporters). Must not throw. `outcome`
  /// is what the pool recorded (or found recorded): succeeded, failed, timed_out,
  /// canceled, lost or released — for an abandoned attempt too.
  std::function<void(const job&)> on_start;
  std::function<void(const job&, const attempt_result&, attempt_outcome outcome, time_point started, time_point finished)>
      on_finish;
  /// Called when a storage operation fails (the pool backs off and retries; the host
  /// stays up) — e.g. to log a database outage. Called from any pool thread; must not throw.
  std::function<void(const std::exception&)> on_storage_error;
  /// How long an executor may take to return once its stop was requested (deadline
  /// passed, canceled, lease lost, abort_running()) before the pool abandons the attempt.
  std::chrono::milliseconds abandon_grace{3000};
  /// Called (from the pool's watch thread) when an attempt is abandoned, before it is
  /// recorded: the executor call is stuck. A host that runs executors in a helper process
  /// kills the process running this attempt here, so the stuck call returns. `owner` is the
  /// attempt's lease owner (its execution_context::worker). Must not throw.
  std::function<void(const job&, const std::string& owner)> on_abandon;
};

/// @brief What worker_pool needs of a queue: basic_queue satisfies it, as does a facade
/// over one (for instance, one that adds metrics or tracing around each call).
template <class Q>
concept queue_like = requires(Q& q, const job& j, const std::string& s, const execution_context& ctx,
                              const attempt_result& r, std::vector<std::string> queues,
                              std::optional<std::vector<std::string>> executors) {
  { q.claim(std::size_t{1}, s, queues, executors) } -> std::same_as<std::vector<job>>;
  { q.next_due(queues, executors) } -> std::same_as<std::optional<time_point>>;
  { q.execute(j, ctx) } -> std::same_as<attempt_result>;
  { q.report(j, s, r) } -> std::same_as<bool>;
  { q.heartbeat(s, s) } -> std::same_as<bool>;
  { q.release(s, s) } -> std::same_as<bool>;
  q.reclaim_expired();
  { q.find(s) } -> std::same_as<std::optional<job>>;
  { q.config().poll_interval_ms } -> std::convertible_to<long long>;
  { q.lease_length() } -> std::convertible_to<milliseconds>;
  { q.effective_timeout(j) } -> std::convertible_to<double>;
  { q.wake() } -> std::same_as<wake_signal&>;
};

/// @brief Runs jobs from `Queue` (a basic_queue) on N threads.
///
/// Each slot claims one job at a time and runs it on its own thread. Two helper threads:
/// - heartbeat: renews the leases of running jobs every third of lease-seconds, stops a
///   job whose lease was lost or that was canceled, and reclaims other processes' lapsed
///   leases;
/// - watch: while jobs run, looks every 50 ms for (a) a wake-up of the queue (a local
///   enqueue or cancel, the SQLite WAL watcher, PostgreSQL NOTIFY) or the poll interval,
///   and then reads the running jobs to stop a canceled one at once; (b) a job past its
///   deadline (the job's timeout, else job-timeout): its stop is requested, whatever the
///   executor does with `ctx.timeout`; (c) an executor that has not returned
///   `abandon_grace` after its stop was requested: the attempt is **abandoned** — recorded
///   (a timeout as timed_out and retried by the usual rules, an abort as released;
///   canceled and lost attempts are already recorded), `on_abandon` is called, and the slot
///   goes on with a fresh thread. The stuck call keeps its thread until it returns; its
///   result is then discarded and that thread ends without touching the queue, so it
///   cannot affect a later attempt.
///
/// `request_stop()` is graceful (no new claims; running jobs finish); `abort_running()`
/// stops running jobs and hands them back as not attempted. join() waits for the slots;
/// abandoned calls get at most another `abandon_grace` and are then left detached (their
/// executor must outlive them: a process exits instead, see stuck_calls()).
template <queue_like Queue>
class worker_pool {
 public:
  worker_pool(Queue& queue, worker_pool_options opts) : queue_(queue), opts_(std::move(opts)) {}
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() {
    request_stop();
    join();
  }

  void start() {
    const int n = slots();
    live_slots_.store(n);
    // Read before any slot runs: a wake-up that comes before the watch thread is scheduled counts.
    const auto seen = queue_.wake().generation();
    {
      std::lock_guard lock(threads_mu_);
      for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { run_slot(i); });
    }
    heartbeat_ = std::jthread([this](std::stop_token st) { run_heartbeat(st); });
    watch_ = std::jthread([this, seen](std::stop_token st) { run_watch(st, seen); });
  }

  /// Graceful: no new claims; running jobs finish. Returns at once.
  void request_stop() {
    stopping_.store(true);
    queue_.wake().notify();
  }
  /// Stops the running jobs (their executors see the stop token) and hands them back
  /// to the queue unattempted. Implies request_stop().
  void abort_running() {
    aborting_.store(true);
    request_stop();
    std::lock_guard lock(running_mu_);
    for (auto& [_, r] : running_) stop_attempt(r, stop_reason::aborted);
  }
  /// Waits for the slots to finish (after request_stop()); bounded once every running
  /// attempt was asked to stop (abandon_grace, then at most abandon_grace for stuck calls).
  void join() {
    while (live_slots_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::vector<std::thread> done;
    {
      std::lock_guard lock(threads_mu_);
      done.swap(threads_);
    }
    for (auto& t : done)
      if (t.joinable()) t.join();
    for (std::jthread* t : {&heartbeat_, &watch_}) {
      if (!t->joinable()) continue;
      t->request_stop();
      {  // under the mutexes, so a thread about to wait cannot miss the notify
        std::scoped_lock lock(hb_mu_, watch_mu_);
      }
      hb_cv_.notify_all();
      watch_cv_.notify_all();
      t->join();
    }
    std::vector<abandoned_thread> stuck;
    {
      std::lock_guard lock(threads_mu_);
      stuck.swap(abandoned_);
    }
    const auto deadline = std::chrono::steady_clock::now() + opts_.abandon_grace;
    for (auto& a : stuck) {
      while (!a.ticket->returned.load() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (a.ticket->returned.load()) {
        a.thread.join();
      } else {
        a.thread.detach();
        stuck_.push_back(a.ticket);
      }
    }
  }
  /// After request_stop(): waits up to `timeout` for every slot to finish its job and
  /// exit; true if they did (then join() returns at once).
  bool wait_stopped_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (live_slots_.load() > 0) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  /// After join(): abandoned executor calls that still had not returned (their threads
  /// are detached). A process should exit rather than destroy the executor under them.
  std::size_t stuck_calls() const {
    return static_cast<std::size_t>(
        std::count_if(stuck_.begin(), stuck_.end(), [](const auto& t) { return !t->returned.load(); }));
  }

  int slots() const { return std::max(1, opts_.threads); }
  /// Slots running a job right now.
  std::size_t busy() const {
    std::lock_guard lock(running_mu_);
    return running_.size();
  }
  bool stopping() const { return stopping_.load(); }

 private:
  using steady = std::chrono::steady_clock;
  using stop_reason = detail::stop_reason;
  using attempt_ticket = detail::attempt_ticket;
  using running_job = detail::running_attempt;
  using abandoned_thread = detail::abandoned_thread;

  void run_slot(int slot) {
    const std::string owner = opts_.owner_prefix + "/" + std::to_string(slot);
    while (!stopping_.load()) {
      const auto gen = queue_.wake().generation();
      std::vector<job> jobs;
      try {
        jobs = queue_.claim(1, owner, opts_.queues, opts_.executors);
      } catch (const std::exception& e) {
        // Storage trouble (busy, disconnected): back off and try again; the host stays up.
        storage_error(e);
      }
      if (jobs.empty()) {
        queue_.wake().wait_for(gen, idle_wait());
        continue;
      }
      // Abandoned: the pool has moved on without this thread (and may be gone): touch nothing.
      if (!run_job(jobs.front(), owner, slot)) return;
    }
    live_slots_.fetch_sub(1);
  }

  /// How long an idle slot sleeps before it claims again (unless woken).
  std::chrono::milliseconds idle_wait() {
    const std::chrono::milliseconds poll(queue_.config().poll_interval_ms);
    if (opts_.idle_poll <= poll) return poll;
    try {
      const auto due = queue_.next_due(opts_.queues, opts_.executors);
      if (!due) return opts_.idle_poll;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*due - now());
      // Due already yet not claimed (another worker holds its row): try again as usual.
      if (left.count() <= 0) return poll;
      return std::min(left + std::chrono::milliseconds(5), opts_.idle_poll);
    } catch (const std::exception& e) {
      storage_error(e);
      return poll;
    }
  }

  /// False if the attempt was abandoned while the executor ran.
  bool run_job(const job& j, const std::string& owner, int slot) {
    auto ticket = std::make_shared<attempt_ticket>();
    execution_context ctx;
    ctx.worker = owner;
    ctx.attempt = j.attempts;
    ctx.timeout = queue_.effective_timeout(j);
    ctx.started_at = now();
    {
      std::lock_guard lock(running_mu_);
      running_job& r = running_[slot] = running_job{};
      r.j = j;
      r.owner = owner;
      r.seq = ++attempt_seq_;
      r.timeout = ctx.timeout;
      r.started_at = ctx.started_at;
      r.deadline = detail::deadline_after(ctx.timeout);
      r.ticket = ticket;
      ctx.stop = r.stop.get_token();
      if (aborting_.load()) stop_attempt(r, stop_reason::aborted);
    }
    {
      std::lock_guard lock(watch_mu_);
      ++attempts_started_;
    }
    watch_cv_.notify_all();  // a deadline to watch
    if (opts_.on_start) opts_.on_start(j);
    // From here until the ticket is won this thread uses only locals: an abandoned call
    // may outlive the pool. Only an entered call can be abandoned.
    Queue& queue = queue_;
    ticket->entered.store(true, std::memory_order_release);
    const attempt_result r = queue.execute(j, ctx);
    int expected = attempt_ticket::running;
    if (!ticket->state.compare_exchange_strong(expected, attempt_ticket::finished)) {
      ticket->returned.store(true);
      return false;
    }
    ticket->returned.store(true);
    const time_point finished = now();
    stop_reason reason;
    {
      std::lock_guard lock(running_mu_);
      reason = running_[slot].reason;
      running_.erase(slot);
    }
    finish_attempt(j, owner, r, reason, ctx.timeout, ctx.started_at, finished);
    return true;
  }

  // Recording an attempt's end: detail/worker_pool_recording.hpp.
  /// Records an attempt whose executor returned, by why it was stopped (if it was).
  void finish_attempt(const job& j, const std::string& owner, const attempt_result& r, stop_reason reason,
                      double timeout, time_point started, time_point finished);
  /// The executor did not return in time after its stop: record the attempt without it
  /// and give the slot a fresh thread.
  void abandon(int slot, running_job& r);
  /// Why a job's attempt is no longer this pool's to record: canceled, or lost.
  attempt_outcome why_not_ours(const std::string& id);

  // The helper threads: detail/worker_pool_watch.hpp.
  void run_heartbeat(std::stop_token st);
  /// Cancels, deadlines and stuck executors of the running attempts (see the class doc).
  void run_watch(std::stop_token st, std::uint64_t seen);
  /// One read per running job: stops those canceled (or no longer ours) meanwhile.
  void stop_canceled();
  void enforce_deadlines();

  /// Under running_mu_. The first reason wins; the grace clock starts now.
  void stop_attempt(running_job& r, stop_reason why) { detail::stop_attempt(r, why, opts_.abandon_grace); }

  /// Reporting must not be lost to a transient storage error (a busy database): retry
  /// for a while; if it still fails, the lease lapses and the job is recovered.
  template <class F>
  void retrying(F&& f) {
    for (int i = 0; i < 50; ++i) {
      try {
        f();
        return;
      } catch (const std::exception& e) {
        storage_error(e);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * (i + 1)));
      }
    }
  }

  void storage_error(const std::exception& e) noexcept {
    if (!opts_.on_storage_error) return;
    try {
      opts_.on_storage_error(e);
    } catch (...) {
    }
  }

  Queue& queue_;
  worker_pool_options opts_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> aborting_{false};
  std::atomic<int> live_slots_{0};
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;            ///< by slot; guarded by threads_mu_
  std::vector<abandoned_thread> abandoned_;     ///< guarded by threads_mu_
  std::vector<std::shared_ptr<attempt_ticket>> stuck_;  ///< detached by join()
  std::jthread heartbeat_;
  std::mutex hb_mu_;
  std::condition_variable hb_cv_;
  std::jthread watch_;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  std::uint64_t attempts_started_ = 0;  ///< guarded by watch_mu_
  mutable std::mutex running_mu_;
  std::map<int, running_job> running_;
  std::uint64_t attempt_seq_ = 0;  ///< guarded by running_mu_
};

}  // namespace queuectl

#include "queuectl/detail/worker_pool_recording.hpp"
#include "queuectl/detail/worker_pool_watch.hpp"
