/// @file
/// @brief What a worker hands an executor along with the job.
#pragma once

#include <stop_token>
#include <string>

#include "queuectl/time.hpp"

namespace queuectl {

/// @brief Per-attempt context passed to `Executor::execute`.
struct execution_context {
  /// Requested when the job is canceled, its lease is lost, its deadline (`timeout`)
  /// passes, or the worker must stop now. A long-running executor polls it and gives up
  /// (killing what it started). A worker_pool that gets no return within its abandon
  /// grace records the attempt without the executor and discards what it returns later.
  std::stop_token stop;
  std::string worker;      ///< lease owner running this attempt
  int attempt = 1;         ///< 1-based attempt number
  double timeout = 0;      ///< seconds, 0 = none (job's timeout or the default job-timeout)
  time_point started_at{};
};

}  // namespace queuectl
