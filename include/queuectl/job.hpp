/// @file
/// @brief The job model: states, what a user submits (job_spec), what is stored (job),
/// and what one attempt produced (attempt_result, attempt_record).
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "queuectl/time.hpp"

namespace queuectl {

/// @brief Life cycle of a job (docs/architecture.md §2).
///
/// pending → processing → completed; a failed attempt → failed (waiting for its retry
/// time) → processing …; after the last allowed attempt → dead. Also canceled.
enum class job_state { pending, processing, completed, failed, dead, canceled };

inline constexpr std::array<job_state, 6> all_job_states = {job_state::pending,   job_state::processing,
                                                            job_state::completed, job_state::failed,
                                                            job_state::dead,      job_state::canceled};

inline constexpr std::string_view to_string(job_state s) noexcept {
  constexpr std::string_view names[] = {"pending", "processing", "completed", "failed", "dead", "canceled"};
  return names[static_cast<int>(s)];
}

inline std::optional<job_state> parse_job_state(std::string_view s) noexcept {
  for (auto st : all_job_states)
    if (to_string(st) == s) return st;
  return std::nullopt;
}

/// True for states a job never leaves by itself.
inline constexpr bool is_final(job_state s) noexcept {
  return s == job_state::completed || s == job_state::dead || s == job_state::canceled;
}

/// @brief What a user submits. Unset optionals take the queue's configured defaults.
struct job_spec {
  std::string id;  ///< empty: generated at enqueue
  std::string command;
  std::string executor = "shell";
  std::string payload = "{}";  ///< executor-specific JSON object, kept as compact text
  std::string queue = "default";
  int priority = 0;
  std::optional<int> max_retries;
  std::optional<time_point> run_at;
  std::optional<double> timeout;  ///< seconds, 0 = none
  std::map<std::string, std::string> env;
  std::string cwd;
};

/// @brief A stored job: the spec plus its state.
struct job {
  std::string id;
  std::string command;
  std::string executor = "shell";
  std::string payload = "{}";
  std::string queue = "default";
  job_state state = job_state::pending;
  int attempts = 0;    ///< attempts started (a lease lost to a crash is not counted)
  int recoveries = 0;  ///< times the job was taken back from a worker whose lease lapsed
  int max_retries = 3;
  int priority = 0;
  time_point run_at{};
  double timeout = 0;  ///< seconds, 0 = none
  std::map<std::string, std::string> env;
  std::string cwd;
  time_point created_at{};
  time_point updated_at{};
  std::string last_error;
  std::optional<int> exit_code;
  std::string lease_owner;                    ///< empty unless processing
  std::optional<time_point> lease_expires_at;  ///< set only while processing
  std::int64_t seq = 0;  ///< insertion order, assigned by storage (FIFO tie-break)
};

/// @brief What an executor reports for one attempt.
struct attempt_result {
  bool success = false;
  /// Failure that retrying cannot fix (e.g. HTTP 404): the job goes straight to dead.
  bool permanent = false;
  bool timed_out = false;
  std::optional<int> exit_code;
  std::optional<int> signal;
  std::string output;  ///< captured stdout/stderr (executor caps it)
  std::string error;   ///< one-line reason when !success
  /// Overrides the backoff for the next attempt (e.g. HTTP Retry-After).
  std::optional<milliseconds> retry_after;

  static attempt_result ok() {
    attempt_result r;
    r.success = true;
    return r;
  }
  static attempt_result failure(std::string why, bool permanent = false) {
    attempt_result r;
    r.error = std::move(why);
    r.permanent = permanent;
    return r;
  }
};

/// @brief How an attempt ended, as recorded.
enum class attempt_outcome { running, succeeded, failed, timed_out, lost, released, canceled };

inline constexpr std::string_view to_string(attempt_outcome o) noexcept {
  constexpr std::string_view names[] = {"running", "succeeded", "failed", "timed_out", "lost", "released", "canceled"};
  return names[static_cast<int>(o)];
}

inline std::optional<attempt_outcome> parse_attempt_outcome(std::string_view s) noexcept {
  for (int i = 0; i <= static_cast<int>(attempt_outcome::canceled); ++i)
    if (to_string(static_cast<attempt_outcome>(i)) == s) return static_cast<attempt_outcome>(i);
  return std::nullopt;
}

/// @brief One stored attempt, for `logs`.
struct attempt_record {
  std::string job_id;
  int number = 0;  ///< 1-based, matches job.attempts at the time it started
  std::string worker;
  time_point started_at{};
  std::optional<time_point> finished_at;
  attempt_outcome outcome = attempt_outcome::running;
  std::optional<int> exit_code;
  std::string output;
  std::string error;
};

}  // namespace queuectl
