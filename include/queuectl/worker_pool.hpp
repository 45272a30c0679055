/// @file
/// @brief N worker threads over a basic_queue, with lease heartbeats, prompt cancel,
/// enforced timeouts and graceful stop.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
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
  enum class stop_reason { none, canceled, lost, timed_out, aborted };

  /// Shared by a slot thread and the watch thread: whoever moves `state` off `running`
  /// first decides how the attempt ends. Outlives the pool if a stuck call does.
  struct attempt_ticket {
    enum : int { running, finished, abandoned };
    std::atomic<int> state{running};
    std::atomic<bool> entered{false};   ///< past the last use of the pool before the call
    std::atomic<bool> returned{false};  ///< the executor call has returned
  };
  struct running_job {
    job j;
    std::string owner;
    std::uint64_t seq = 0;  ///< tells a slot's successive attempts apart
    std::stop_source stop;
    double timeout = 0;
    time_point started_at{};
    steady::time_point deadline = steady::time_point::max();
    stop_reason reason = stop_reason::none;
    steady::time_point abandon_at = steady::time_point::max();
    std::shared_ptr<attempt_ticket> ticket;
  };
  struct abandoned_thread {
    std::thread thread;
    std::shared_ptr<attempt_ticket> ticket;
  };

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
      r.deadline = deadline_after(ctx.timeout);
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

  /// Records an attempt whose executor returned, by why it was stopped (if it was).
  void finish_attempt(const job& j, const std::string& owner, const attempt_result& r, stop_reason reason,
                      double timeout, time_point started, time_point finished) {
    attempt_result recorded = r;
    attempt_outcome outcome = outcome_of(r);
    bool written = true;
    switch (reason) {
      case stop_reason::timed_out:  // the deadline counts, whatever the executor returned
        recorded = timed_out_result(r, timeout, "");
        outcome = attempt_outcome::timed_out;
        retrying([&] { written = queue_.report(j, owner, recorded); });
        break;
      case stop_reason::canceled:  // recorded by the cancel itself
        outcome = attempt_outcome::canceled;
        break;
      case stop_reason::lost:  // recorded by whoever took the lease
        outcome = attempt_outcome::lost;
        break;
      case stop_reason::aborted:
      case stop_reason::none:
        if ((reason == stop_reason::aborted || aborting_.load()) && !r.success) {
          retrying([&] { queue_.release(j.id, owner); });
          outcome = attempt_outcome::released;
        } else {
          retrying([&] { written = queue_.report(j, owner, r); });
        }
        break;
    }
    if (!written) outcome = why_not_ours(j.id);
    if (opts_.on_finish) opts_.on_finish(j, recorded, outcome, started, finished);
  }

  /// The executor did not return in time after its stop: record the attempt without it
  /// and give the slot a fresh thread.
  void abandon(int slot, running_job& r) {
    if (opts_.on_abandon) {
      try {
        opts_.on_abandon(r.j, r.owner);
      } catch (...) {
      }
    }
    const std::string note = "; the executor did not return within " + seconds_text(opts_.abandon_grace) +
                             " of being stopped and was abandoned";
    attempt_result res;
    attempt_outcome outcome = attempt_outcome::failed;
    bool written = true;
    switch (r.reason) {
      case stop_reason::timed_out:
        res = timed_out_result({}, r.timeout, note);
        outcome = attempt_outcome::timed_out;
        retrying([&] { written = queue_.report(r.j, r.owner, res); });
        break;
      case stop_reason::aborted:
        res = attempt_result::failure("stopped: the worker is stopping" + note);
        outcome = attempt_outcome::released;
        retrying([&] { queue_.release(r.j.id, r.owner); });
        break;
      case stop_reason::canceled:
        res = attempt_result::failure("canceled" + note);
        outcome = attempt_outcome::canceled;
        break;
      case stop_reason::lost:
      case stop_reason::none:
        res = attempt_result::failure("lease lost" + note);
        outcome = attempt_outcome::lost;
        break;
    }
    if (!written) outcome = why_not_ours(r.j.id);
    if (opts_.on_finish) opts_.on_finish(r.j, res, outcome, r.started_at, now());
    std::lock_guard lock(threads_mu_);
    abandoned_.push_back({std::move(threads_[static_cast<std::size_t>(slot)]), r.ticket});
    if (stopping_.load()) live_slots_.fetch_sub(1);  // the stuck thread would never count itself out
    else threads_[static_cast<std::size_t>(slot)] = std::thread([this, slot] { run_slot(slot); });
  }

  void run_heartbeat(std::stop_token st) {
    auto last_reclaim = steady::now() - std::chrono::hours(1);
    while (!st.stop_requested()) {
      const auto lease = queue_.lease_length();
      const auto period = std::clamp(lease / 3, std::chrono::milliseconds(50), std::chrono::milliseconds(10000));
      std::vector<std::pair<std::string, std::string>> held;
      {
        std::lock_guard lock(running_mu_);
        for (auto& [_, r] : running_) held.emplace_back(r.j.id, r.owner);
      }
      for (auto& [id, owner] : held) {
        bool still_ours = true;
        try {
          still_ours = queue_.heartbeat(id, owner);
        } catch (const std::exception& e) {
          storage_error(e);
          continue;  // transient storage error: the lease may survive until the next tick
        }
        if (!still_ours) {
          const stop_reason why = why_not_ours(id) == attempt_outcome::canceled ? stop_reason::canceled : stop_reason::lost;
          std::lock_guard lock(running_mu_);
          for (auto& [_, r] : running_)
            if (r.j.id == id && r.owner == owner) stop_attempt(r, why);
        }
      }
      if (steady::now() - last_reclaim >= period) {
        try {
          queue_.reclaim_expired();
        } catch (const std::exception& e) {
          storage_error(e);
        }
        last_reclaim = steady::now();
      }
      if (opts_.on_tick) {
        try {
          opts_.on_tick();
        } catch (const std::exception& e) {
          storage_error(e);
        }
      }
      std::unique_lock lock(hb_mu_);
      hb_cv_.wait_for(lock, period, [&] { return st.stop_requested(); });
    }
  }

  /// Cancels, deadlines and stuck executors of the running attempts (see the class doc).
  void run_watch(std::stop_token st, std::uint64_t seen) {
    constexpr auto tick = std::chrono::milliseconds(50);
    auto last_check = steady::now();
    while (!st.stop_requested()) {
      std::uint64_t started;
      {
        std::lock_guard lock(watch_mu_);
        started = attempts_started_;
      }
      bool idle;
      {
        std::lock_guard lock(running_mu_);
        idle = running_.empty();
      }
      {
        std::unique_lock lock(watch_mu_);
        watch_cv_.wait_for(lock, idle ? std::chrono::milliseconds(1000) : tick,
                           [&] { return st.stop_requested() || (idle && attempts_started_ != started); });
      }
      if (st.stop_requested()) break;
      const auto gen = queue_.wake().generation();
      const auto poll = std::chrono::milliseconds(std::max<long long>(50, queue_.config().poll_interval_ms));
      if (gen != seen || steady::now() - last_check >= poll) {
        seen = gen;
        last_check = steady::now();
        stop_canceled();
      } else if (idle) {
        continue;
      }
      enforce_deadlines();
    }
  }

  /// One read per running job: stops those canceled (or no longer ours) meanwhile.
  void stop_canceled() {
    struct held {
      int slot;
      std::uint64_t seq;
      std::string id, owner;
    };
    std::vector<held> running;
    {
      std::lock_guard lock(running_mu_);
      for (auto& [slot, r] : running_)
        if (r.reason == stop_reason::none) running.push_back({slot, r.seq, r.j.id, r.owner});
    }
    for (const auto& h : running) {
      stop_reason why = stop_reason::none;
      try {
        const std::optional<job> j = queue_.find(h.id);
        if (!j || j->state == job_state::canceled) why = stop_reason::canceled;
        else if (j->state != job_state::processing || j->lease_owner != h.owner) why = stop_reason::lost;
      } catch (const std::exception& e) {
        storage_error(e);
        continue;
      }
      if (why == stop_reason::none) continue;
      std::lock_guard lock(running_mu_);
      const auto it = running_.find(h.slot);
      if (it != running_.end() && it->second.seq == h.seq) stop_attempt(it->second, why);
    }
  }

  void enforce_deadlines() {
    std::vector<std::pair<int, running_job>> gone;
    {
      std::lock_guard lock(running_mu_);
      const auto t = steady::now();
      for (auto it = running_.begin(); it != running_.end();) {
        running_job& r = it->second;
        if (r.reason == stop_reason::none && t >= r.deadline) stop_attempt(r, stop_reason::timed_out);
        int expected = attempt_ticket::running;
        if (t >= r.abandon_at && r.ticket->entered.load(std::memory_order_acquire) &&
            r.ticket->state.compare_exchange_strong(expected, attempt_ticket::abandoned)) {
          gone.emplace_back(it->first, std::move(r));
          it = running_.erase(it);
          continue;
        }
        ++it;
      }
    }
    for (auto& [slot, r] : gone) abandon(slot, r);
  }

  /// Under running_mu_. The first reason wins; the grace clock starts now.
  void stop_attempt(running_job& r, stop_reason why) {
    if (r.reason != stop_reason::none) return;
    r.reason = why;
    r.abandon_at = steady::now() + opts_.abandon_grace;
    r.stop.request_stop();
  }

  /// Why a job's attempt is no longer this pool's to record: canceled, or lost.
  attempt_outcome why_not_ours(const std::string& id) {
    try {
      const std::optional<job> j = queue_.find(id);
      if (!j || j->state == job_state::canceled) return attempt_outcome::canceled;
    } catch (const std::exception& e) {
      storage_error(e);
    }
    return attempt_outcome::lost;
  }

  static attempt_outcome outcome_of(const attempt_result& r) {
    return r.success ? attempt_outcome::succeeded : r.timed_out ? attempt_outcome::timed_out : attempt_outcome::failed;
  }
  static attempt_result timed_out_result(attempt_result r, double timeout, const std::string& note) {
    const bool executor_said_so = r.timed_out && !r.error.empty();
    r.success = false;
    r.timed_out = true;
    r.permanent = false;
    r.retry_after.reset();
    if (!executor_said_so) r.error = "timed out after " + seconds_text(timeout);
    r.error += note;
    return r;
  }
  static std::string seconds_text(double s) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%gs", s);
    return buf;
  }
  static std::string seconds_text(std::chrono::milliseconds d) {
    return seconds_text(std::chrono::duration<double>(d).count());
  }
  /// The job's deadline; none for no timeout or one too large to matter (no overflow).
  static steady::time_point deadline_after(double timeout) {
    if (!(timeout > 0) || timeout > 1e9) return steady::time_point::max();
    return steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(timeout));
  }

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
