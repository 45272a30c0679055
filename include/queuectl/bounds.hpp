/// @file
/// @brief The one table of bounds for every number a user can give: config settings,
/// job-spec fields and the CLI flags that override them (docs/cli.md "Bounds").
///
/// `queue_config::set` (config set, REST `PUT /api/config/…`), the job-spec codec (JSON
/// fields, JSON Lines, REST bodies) and `enqueue`'s flags all check against this table, so a
/// value accepted by one is accepted by all; durations are then computed with the
/// saturating helpers of time.hpp.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace queuectl {

/// @brief The accepted range of one number.
struct number_bound {
  std::string_view name;  ///< config key (dashes) or job field (underscores)
  double min;
  double max;
  bool integer;        ///< fractions rejected
  bool min_exclusive;  ///< `> min` rather than `>= min`
  std::string_view unit;

  bool contains(double v) const {
    if (!std::isfinite(v) || v > max || v < min || (min_exclusive && v == min)) return false;
    return !integer || std::floor(v) == v;
  }
  /// "an integer from 0 to 1000", "a number of seconds from 0.05 to 86400".
  std::string describe() const {
    std::string o = integer ? "an integer" : "a number";
    if (!unit.empty()) o += std::string(" of ") + std::string(unit);
    o += min_exclusive ? " above " : " from ";
    o += format(min) + " to " + format(max);
    return o;
  }
  /// Shortest text that reads back as `v`; integers without an exponent (1000000000).
  static std::string format(double v) {
    if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, p);
  }
};

namespace bounds {

inline constexpr double one_day = 86400;
inline constexpr double one_year = 365 * one_day;

// Config settings (queuectl config set KEY VALUE).
inline constexpr number_bound max_retries{"max-retries", 0, 1000, true, false, ""};
/// base^n saturates, but a base above 1000 only ever means "backoff-max at once".
inline constexpr number_bound backoff_base{"backoff-base", 1, 1000, false, false, ""};
inline constexpr number_bound backoff_max{"backoff-max", 0, one_year, false, false, "seconds"};
inline constexpr number_bound job_timeout{"job-timeout", 0, one_year, false, false, "seconds"};
/// A lease is renewed every third of its length: 50 ms keeps that above the millisecond
/// precision stored (short leases are for tests); a day is longer than any heartbeat gap.
inline constexpr number_bound lease_seconds{"lease-seconds", 0.05, one_day, false, false, "seconds"};
inline constexpr number_bound poll_interval_ms{"poll-interval-ms", 1, 3'600'000, true, false, "milliseconds"};
inline constexpr number_bound stop_timeout_seconds{"stop-timeout-seconds", 0, one_day, false, false, "seconds"};
inline constexpr number_bound max_recoveries{"max-recoveries", 0, 1000, true, false, ""};

// Job-spec fields (and the enqueue flags that set them).
inline constexpr number_bound priority{"priority", -1'000'000'000, 1'000'000'000, true, false, ""};
inline constexpr number_bound job_max_retries{"max_retries", 0, 1000, true, false, ""};
inline constexpr number_bound timeout{"timeout", 0, one_year, false, false, "seconds"};
/// run_at as epoch seconds: up to 3000-01-01T00:00:00Z.
inline constexpr number_bound run_at{"run_at", 0, 32503680000.0, false, false, "epoch seconds"};
/// `enqueue --delay`: at most ten years from now.
inline constexpr number_bound delay{"delay", 0, 10 * one_year, false, false, "seconds"};

/// Worker slots of one process (`queuectl-host --workers`, `worker start --count`,
/// /worker/start?num_workers=N). Not a stored value, so not in `all`.
inline constexpr number_bound worker_slots{"workers", 1, 1024, true, false, ""};

/// Every entry, in the order docs/cli.md lists them.
inline constexpr std::array<const number_bound*, 13> all = {
    &max_retries, &backoff_base, &backoff_max,     &job_timeout, &lease_seconds, &poll_interval_ms, &stop_timeout_seconds,
    &max_recoveries, &priority,  &job_max_retries, &timeout,     &run_at,        &delay};

/// The entry named `name` (config key or field), or null.
inline const number_bound* find(std::string_view name) {
  for (const number_bound* b : all)
    if (b->name == name) return b;
  return nullptr;
}

}  // namespace bounds

/// Parses a whole string as a finite number (no spaces, no trailing text, no hex/inf/nan).
inline std::optional<double> parse_number_text(std::string_view v) {
  double out = 0;
  if (v.empty() || v.size() > 64) return std::nullopt;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, std::chars_format::general);
  // out of range (1e400) is errc::result_out_of_range: refused like any other bad text
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(out)) return std::nullopt;
  return out;
}

}  // namespace queuectl
