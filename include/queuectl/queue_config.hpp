/// @file
/// @brief The persisted settings (`queuectl config`), their defaults and validation.
#pragma once

#include <charconv>
#include <initializer_list>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/bounds.hpp"
#include "queuectl/error.hpp"

namespace queuectl {

/// @brief Typed view of the persisted config. Keys use dashes (`max-retries`); underscores
/// are accepted everywhere a key is read (`max_retries`).
struct queue_config {
  int max_retries = 3;
  double backoff_base = 2.0;        ///< seconds; ≥ 1, fractional allowed
  double backoff_max = 3600.0;      ///< cap on one backoff delay, seconds
  double job_timeout = 0;           ///< default per-attempt timeout, seconds, 0 = none
  double lease_seconds = 30;        ///< lease length; renewed every third of it while running
  int poll_interval_ms = 1000;      ///< fallback poll when no wake-up arrives
  double stop_timeout_seconds = 30; ///< graceful stop waits this long before killing jobs
  int max_recoveries = 5;           ///< lapsed leases before a job is declared dead
  /// How enqueue names a job given without an id: "random" (job_id.hpp: time-ordered
  /// hex, e.g. 0193a1b2c3d4-5f2a9c1e) or "sequential" (job1, job2, … from a counter in
  /// the database: unique across processes and hosts, ids in use skipped).
  std::string job_ids = "random";

  /// Every key with its description, in display order (the ranges come from bounds.hpp).
  static const std::vector<std::pair<std::string, std::string>>& keys() {
    static const std::vector<std::pair<std::string, std::string>> k = {
        {"max-retries", "attempts before a job is dead (0 means one attempt); " + bounds::max_retries.describe()},
        {"backoff-base", "retry n waits base^n seconds; " + bounds::backoff_base.describe()},
        {"backoff-max", "cap on one retry delay; " + bounds::backoff_max.describe()},
        {"job-timeout", "default per-attempt timeout, 0 = none; " + bounds::job_timeout.describe()},
        {"lease-seconds", "claim lease length; " + bounds::lease_seconds.describe()},
        {"poll-interval-ms", "fallback poll interval; " + bounds::poll_interval_ms.describe()},
        {"stop-timeout-seconds", "graceful stop waits this long for running jobs; " + bounds::stop_timeout_seconds.describe()},
        {"max-recoveries", "lapsed leases before a job is dead; " + bounds::max_recoveries.describe()},
        {"job-ids", "ids of jobs enqueued without one: random (time-ordered hex) or sequential (job1, job2, ...)"},
    };
    return k;
  }

  /// `max_retries` → `max-retries`; throws invalid_input for an unknown key.
  static std::string normalize_key(std::string_view key) {
    std::string k(key);
    for (char& c : k)
      if (c == '_') c = '-';
    for (const auto& [name, _] : keys())
      if (name == k) return k;
    throw error(error_kind::invalid_input, "queuectl.config.unknown_key", "unknown config key '" + std::string(key) + "'");
  }

  /// Current value of a key as text.
  std::string get(std::string_view key) const {
    const std::string k = normalize_key(key);
    if (k == "max-retries") return std::to_string(max_retries);
    if (k == "backoff-base") return format(backoff_base);
    if (k == "backoff-max") return format(backoff_max);
    if (k == "job-timeout") return format(job_timeout);
    if (k == "lease-seconds") return format(lease_seconds);
    if (k == "poll-interval-ms") return std::to_string(poll_interval_ms);
    if (k == "stop-timeout-seconds") return format(stop_timeout_seconds);
    if (k == "job-ids") return job_ids;
    return std::to_string(max_recoveries);
  }

  /// Validates and applies one value against its bounds::… entry; throws invalid_input
  /// naming the key. Returns the normalized key.
  std::string set(std::string_view key, std::string_view value) {
    const std::string k = normalize_key(key);
    if (k == "max-retries") max_retries = static_cast<int>(parse(bounds::max_retries, value));
    else if (k == "backoff-base") backoff_base = parse(bounds::backoff_base, value);
    else if (k == "backoff-max") backoff_max = parse(bounds::backoff_max, value);
    else if (k == "job-timeout") job_timeout = parse(bounds::job_timeout, value);
    else if (k == "lease-seconds") lease_seconds = parse(bounds::lease_seconds, value);
    else if (k == "poll-interval-ms") poll_interval_ms = static_cast<int>(parse(bounds::poll_interval_ms, value));
    else if (k == "stop-timeout-seconds") stop_timeout_seconds = parse(bounds::stop_timeout_seconds, value);
    else if (k == "job-ids") job_ids = parse_choice(k, value, {"random", "sequential"});
    else max_recoveries = static_cast<int>(parse(bounds::max_recoveries, value));
    return k;
  }

  /// Builds a config from stored entries (unknown or invalid stored entries are ignored,
  /// since they were validated when written by an older or newer version).
  static queue_config from_entries(const std::map<std::string, std::string>& entries) {
    queue_config c;
    for (const auto& [k, v] : entries) {
      try {
        c.set(k, v);
      } catch (const error&) {
      }
    }
    return c;
  }

  static std::string format(double v) {
    if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, p);
  }

 private:
  static std::string parse_choice(const std::string& key, std::string_view v, std::initializer_list<const char*> allowed) {
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return a;
      list += (list.empty() ? "" : " or ") + std::string(a);
    }
    throw error(error_kind::invalid_input, "queuectl.config.invalid_value",
                "config " + key + ": '" + std::string(v) + "' is not " + list);
  }
  static double parse(const number_bound& b, std::string_view v) {
    const auto n = parse_number_text(v);
    if (!n || !b.contains(*n))
      throw error(error_kind::invalid_input, "queuectl.config.invalid_value",
                  "config " + std::string(b.name) + ": '" + std::string(v) + "' is not " + b.describe());
    return *n;
  }
};

}  // namespace queuectl
