/// @file
/// @brief N worker threads over a basic_queue, with lease heartbeats and graceful stop.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "queuectl/execution_context.hpp"
#include "queuectl/job.hpp"
#include "queuectl/time.hpp"

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
  /// Called when an attempt starts / ends (metrics exporters). Must not throw.
  std::function<void(const job&)> on_start;
  std::function<void(const job&, const attempt_result&, time_point started, time_point finished)> on_finish;
  /// Called when a storage operation fails (the pool backs off and retries; the host
  /// stays up) — e.g. to log a database outage. Called from any pool thread; must not throw.
  std::function<void(const std::exception&)> on_storage_error;
};

/// @brief Runs jobs from `Queue` (a basic_queue) on N threads.
///
/// Each slot claims one job at a time. A heartbeat thread renews the leases of running
/// jobs every third of lease-seconds, stops a job whose lease was lost or that was
/// canceled, and reclaims other processes' lapsed leases. `request_stop()` is graceful
/// (no new claims; running jobs finish); `abort_running()` stops running jobs and hands
/// them back as not attempted.
template <class Queue>
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
    const int n = std::max(1, opts_.threads);
    live_slots_.store(n);
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { run_slot(i); });
    heartbeat_ = std::jthread([this](std::stop_token st) { run_heartbeat(st); });
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
    for (auto& [_, r] : running_) r.stop.request_stop();
  }
  /// Waits for the slots to finish (after request_stop()).
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
    if (heartbeat_.joinable()) {
      heartbeat_.request_stop();
      hb_cv_.notify_all();
      heartbeat_.join();
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

  int slots() const { return std::max(1, opts_.threads); }
  /// Slots running a job right now.
  std::size_t busy() const {
    std::lock_guard lock(running_mu_);
    return running_.size();
  }
  bool stopping() const { return stopping_.load(); }

 private:
  struct running_job {
    std::string id;
    std::string owner;
    std::stop_source stop;
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
      run_job(jobs.front(), owner, slot);
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

  void run_job(const job& j, const std::string& owner, int slot) {
    std::stop_source stop;
    {
      std::lock_guard lock(running_mu_);
      running_[slot] = running_job{j.id, owner, stop};
      if (aborting_.load()) stop.request_stop();
    }
    execution_context ctx;
    ctx.stop = stop.get_token();
    ctx.worker = owner;
    ctx.attempt = j.attempts;
    ctx.timeout = queue_.effective_timeout(j);
    ctx.started_at = now();
    if (opts_.on_start) opts_.on_start(j);
    const attempt_result r = queue_.execute(j, ctx);
    const time_point finished = now();
    {
      std::lock_guard lock(running_mu_);
      running_.erase(slot);
    }
    retrying([&] {
      if (aborting_.load() && !r.success) queue_.release(j.id, owner);
      else queue_.report(j, owner, r);
    });
    if (opts_.on_finish) opts_.on_finish(j, r, ctx.started_at, finished);
  }

  void run_heartbeat(std::stop_token st) {
    auto last_reclaim = std::chrono::steady_clock::now() - std::chrono::hours(1);
    while (!st.stop_requested()) {
      const auto lease = queue_.lease_length();
      const auto period = std::clamp(lease / 3, std::chrono::milliseconds(50), std::chrono::milliseconds(10000));
      std::vector<std::pair<std::string, std::string>> held;
      {
        std::lock_guard lock(running_mu_);
        for (auto& [_, r] : running_) held.emplace_back(r.id, r.owner);
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
          std::lock_guard lock(running_mu_);
          for (auto& [_, r] : running_)
            if (r.id == id && r.owner == owner) r.stop.request_stop();
        }
      }
      if (std::chrono::steady_clock::now() - last_reclaim >= period) {
        try {
          queue_.reclaim_expired();
        } catch (const std::exception& e) {
          storage_error(e);
        }
        last_reclaim = std::chrono::steady_clock::now();
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
  std::vector<std::thread> threads_;
  std::jthread heartbeat_;
  std::mutex hb_mu_;
  std::condition_variable hb_cv_;
  mutable std::mutex running_mu_;
  std::map<int, running_job> running_;
};

}  // namespace queuectl
