/// @file
/// @brief What an attempt's result does to its job, as basic_queue::report writes it:
/// completed, failed and retried after a backoff, or dead (docs/architecture.md, "Job model").
#pragma once

#include <algorithm>
#include <string>

#include "queuectl/job.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail {

/// The finish of `owner`'s attempt of `j` that ended with `r` at `t`. A job is attempted at
/// most max(1, max_retries) times; a permanent failure is dead at once. `retry_delay(n)`
/// (the backoff after the n-th failure) is asked only when the executor named no retry_after.
template <class RetryDelay>
finish_request finish_of_attempt(const job& j, const std::string& owner, const attempt_result& r, time_point t,
                                 RetryDelay&& retry_delay) {
  finish_request f;
  f.id = j.id;
  f.owner = owner;
  f.now = t;
  f.exit_code = r.exit_code;
  f.output = r.output;
  if (r.success) {
    f.state = job_state::completed;
    f.outcome = attempt_outcome::succeeded;
  } else {
    f.outcome = r.timed_out ? attempt_outcome::timed_out : attempt_outcome::failed;
    f.last_error = r.error.empty() ? "attempt failed" : r.error;
    const bool exhausted = j.attempts >= std::max(1, j.max_retries);
    if (r.permanent || exhausted) {
      f.state = job_state::dead;
      if (r.permanent) f.last_error = "permanent failure: " + f.last_error;
    } else {
      f.state = job_state::failed;
      f.run_at = saturating_add(t, r.retry_after ? *r.retry_after : retry_delay(j.attempts));
    }
  }
  return f;
}

}  // namespace queuectl::detail
