// What the worker host writes to stderr: its own lines (log_line), the attempt lines of
// docs/cli.md, "Worker log lines" (attempt_log), and database trouble without flooding
// (storage_trouble_log). Text by default, one JSON object per line with --log-format json.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>

#include "queuectl/job.hpp"
#include "queuectl/time.hpp"

namespace queuectl::app {

/// --log-format json: every line logged from now on is a JSON object. Call before any
/// thread starts.
void use_json_log(bool json);

/// One host line (`<time> queuectl-host[<pid>]: <msg>`, control characters escaped), in
/// one write: lines of concurrent slots never interleave.
void log_line(const std::string& msg);

/// The attempt lines: start, the job's output (with --echo-output, from what the executor
/// captured) and end. One write per event; never throws.
class attempt_log {
 public:
  explicit attempt_log(bool echo_output) : echo_(echo_output) {}
  void started(const job& j) const noexcept;
  void finished(const job& j, const attempt_result& r, attempt_outcome outcome, time_point started,
                time_point finished) const noexcept;

 private:
  bool echo_;
};

/// Logs storage failures (a database outage) without flooding: the first one, then at
/// most one line per 10 s with how many were not shown, and one line when it is over.
class storage_trouble_log {
 public:
  /// Corrupt-database errors (queuectl.storage.corrupt) before the host gives up: a damaged
  /// file does not heal by waiting, unlike a lock or an outage (docs/deploy.md). The last
  /// one sends this process SIGTERM (a graceful stop; gave_up() is then true: exit 1).
  static constexpr int corrupt_limit = 5;
  void failed(const std::exception& e);
  void failed(const std::string& why);
  void succeeded();
  bool gave_up() const { return corrupt_.load() >= corrupt_limit; }

 private:
  std::mutex mu_;
  bool in_trouble_ = false;
  std::size_t unreported_ = 0;
  std::chrono::steady_clock::time_point last_line_{};
  std::atomic<int> corrupt_{0};
};

}  // namespace queuectl::app
