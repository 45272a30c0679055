// What the web component may ask of the worker slots of the process serving it (the
// compatibility routes /worker/start and /worker/stop, the dashboard's Workers buttons).
// apps/web only sees this interface; apps/runtime implements it (worker_slots.hpp), so the
// web layer includes no runtime header and links no runtime code (docs/architecture.md §1).
#pragma once

#include <cstddef>

namespace queuectl::web {

/// This process's own worker slots.
struct worker_slots_state {
  int slots = 0;         ///< slots claiming jobs now (0: none)
  std::size_t busy = 0;  ///< of those, running a job now
  int finishing = 0;     ///< slots stopped or removed by a resize, still finishing their job
};

/// What /worker/stop did.
struct worker_stop_report {
  int stopped_slots = 0;        ///< this process's slots asked to stop (running jobs finish)
  std::size_t signalled = 0;    ///< other worker processes on this host sent SIGTERM
  std::size_t other_hosts = 0;  ///< registered workers on other hosts (not signalled)
};

class worker_control {
 public:
  virtual ~worker_control() = default;
  /// Runs `n` worker slots in this process (the default executor plugins); with slots
  /// already running, resizes to `n` (removed slots finish their running job first).
  /// Throws queuectl::error: invalid_input for `n` out of bounds (bounds::worker_slots),
  /// conflict while the process is shutting down, runtime when no plugin could be loaded.
  virtual worker_slots_state start(int n) = 0;
  /// Gracefully stops this process's slots (running jobs finish, within
  /// stop-timeout-seconds) and every other worker process of the queue on this host, as
  /// `queuectl worker stop` does. Returns at once.
  virtual worker_stop_report stop() = 0;
  virtual worker_slots_state state() const = 0;
};

}  // namespace queuectl::web
