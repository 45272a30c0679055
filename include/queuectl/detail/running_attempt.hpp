/// @file
/// @brief What worker_pool keeps of each running attempt: why it was stopped, its deadline
/// and the ticket its slot thread and the watch thread race on, so that a stuck executor
/// call can be abandoned without the pool waiting for it (rules: worker_pool's class doc).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "queuectl/job.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail {

/// Why the pool asked an attempt to stop.
enum class stop_reason { none, canceled, lost, timed_out, aborted };

/// Shared by a slot thread and the watch thread: whoever moves `state` off `running`
/// first decides how the attempt ends. Outlives the pool if a stuck call does.
struct attempt_ticket {
  enum : int { running, finished, abandoned };
  std::atomic<int> state{running};
  std::atomic<bool> entered{false};   ///< past the last use of the pool before the call
  std::atomic<bool> returned{false};  ///< the executor call has returned
};

/// One attempt a slot is running, in the pool's table of them (under its running mutex).
struct running_attempt {
  using steady = std::chrono::steady_clock;
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

/// A slot thread left running an abandoned attempt: joined once its executor call returns.
struct abandoned_thread {
  std::thread thread;
  std::shared_ptr<attempt_ticket> ticket;
};

/// The job's deadline; none for no timeout or one too large to matter (no overflow).
inline std::chrono::steady_clock::time_point deadline_after(double timeout) {
  using steady = std::chrono::steady_clock;
  if (!(timeout > 0) || timeout > 1e9) return steady::time_point::max();
  return steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(timeout));
}

/// Under the pool's running mutex. The first reason wins; the grace clock starts now.
inline void stop_attempt(running_attempt& r, stop_reason why, std::chrono::milliseconds abandon_grace) {
  if (r.reason != stop_reason::none) return;
  r.reason = why;
  r.abandon_at = std::chrono::steady_clock::now() + abandon_grace;
  r.stop.request_stop();
}

}  // namespace queuectl::detail
