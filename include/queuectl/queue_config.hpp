/// @file
/// @brief The persisted settings (`queuectl config`), their defaults and validation.
#pragma once

#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

  /// Every key with its description, in display order.
  static const std::vector<std::pair<std::string, std::string>>& keys() {
    static const std::vector<std::pair<std::string, std::string>> k = {
        {"max-retries", "attempts before a job is dead (integer >= 0; 0 means one attempt)"},
        {"backoff-base", "retry n waits base^n seconds (number >= 1)"},
        {"backoff-max", "cap on one retry delay in seconds (number >= 0)"},
        {"job-timeout", "default per-attempt timeout in seconds, 0 = none (number >= 0)"},
        {"lease-seconds", "claim lease length in seconds (number > 0)"},
        {"poll-interval-ms", "fallback poll interval in milliseconds (integer >= 1)"},
        {"stop-timeout-seconds", "graceful stop waits this long for running jobs (number >= 0)"},
        {"max-recoveries", "lapsed leases before a job is dead (integer >= 0)"},
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
    return std::to_string(max_recoveries);
  }

  /// Validates and applies one value; throws invalid_input naming the key. Returns the
  /// normalized key.
  std::string set(std::string_view key, std::string_view value) {
    const std::string k = normalize_key(key);
    if (k == "max-retries") max_retries = parse_int(k, value, 0);
    else if (k == "backoff-base") backoff_base = parse_number(k, value, 1.0, false);
    else if (k == "backoff-max") backoff_max = parse_number(k, value, 0.0, false);
    else if (k == "job-timeout") job_timeout = parse_number(k, value, 0.0, false);
    else if (k == "lease-seconds") lease_seconds = parse_number(k, value, 0.0, true);
    else if (k == "poll-interval-ms") poll_interval_ms = parse_int(k, value, 1);
    else if (k == "stop-timeout-seconds") stop_timeout_seconds = parse_number(k, value, 0.0, false);
    else max_recoveries = parse_int(k, value, 0);
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
  static error bad(const std::string& k, std::string_view v, const std::string& want) {
    return error(error_kind::invalid_input, "queuectl.config.invalid_value",
                 "config " + k + ": '" + std::string(v) + "' is not " + want);
  }
  static int parse_int(const std::string& k, std::string_view v, int min) {
    int out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size() || out < min)
      throw bad(k, v, "an integer >= " + std::to_string(min));
    return out;
  }
  static double parse_number(const std::string& k, std::string_view v, double min, bool strict) {
    double out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size() || !std::isfinite(out) || out < min ||
        (strict && out == min))
      throw bad(k, v, std::string("a number ") + (strict ? "> " : ">= ") + format(min));
    return out;
  }
};

}  // namespace queuectl
