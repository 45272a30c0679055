/// @file
/// @brief The results worker_pool records for attempts it ended itself (a deadline passed,
/// an executor abandoned), and the outcome an executor's own result stands for.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "queuectl/job.hpp"

namespace queuectl::detail {

inline attempt_outcome outcome_of(const attempt_result& r) {
  return r.success ? attempt_outcome::succeeded : r.timed_out ? attempt_outcome::timed_out : attempt_outcome::failed;
}

inline std::string seconds_text(double s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}
inline std::string seconds_text(std::chrono::milliseconds d) {
  return seconds_text(std::chrono::duration<double>(d).count());
}

/// A timed-out attempt as recorded: the deadline counts, whatever the executor returned;
/// its own timeout message is kept, else one naming the timeout. `note` is appended.
inline attempt_result timed_out_result(attempt_result r, double timeout, const std::string& note) {
  const bool executor_said_so = r.timed_out && !r.error.empty();
  r.success = false;
  r.timed_out = true;
  r.permanent = false;
  r.retry_after.reset();
  if (!executor_said_so) r.error = "timed out after " + seconds_text(timeout);
  r.error += note;
  return r;
}

}  // namespace queuectl::detail
