/// @file
/// @brief worker_pool's two helper threads: the heartbeat (lease renewal, lost leases,
/// reclaiming lapsed ones) and the watch (cancels, deadlines, stuck executor calls).
// Member definitions of worker_pool, included at the end of queuectl/worker_pool.hpp.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "queuectl/detail/running_attempt.hpp"
#include "queuectl/job.hpp"
#include "queuectl/worker_pool.hpp"

namespace queuectl {

template <queue_like Queue>
void worker_pool<Queue>::run_heartbeat(std::stop_token st) {
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

template <queue_like Queue>
void worker_pool<Queue>::run_watch(std::stop_token st, std::uint64_t seen) {
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

template <queue_like Queue>
void worker_pool<Queue>::stop_canceled() {
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

template <queue_like Queue>
void worker_pool<Queue>::enforce_deadlines() {
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

}  // namespace queuectl
