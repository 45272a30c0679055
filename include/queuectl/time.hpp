/// @file
/// @brief Clock, millisecond conversions and RFC 3339 formatting/parsing.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace queuectl {

using clock = std::chrono::system_clock;
using time_point = std::chrono::time_point<clock, std::chrono::milliseconds>;
using std::chrono::milliseconds;

/// Current wall-clock time, truncated to milliseconds (the precision stored).
inline time_point now() { return std::chrono::time_point_cast<milliseconds>(clock::now()); }

inline std::int64_t to_ms(time_point t) { return t.time_since_epoch().count(); }
inline time_point from_ms(std::int64_t ms) { return time_point(milliseconds(ms)); }

// ---- saturating duration arithmetic ---------------------------------------------------
// Every duration computed from a setting, a job field or a plugin's answer goes through
// these, so no number (1e300, inf, NaN, a negative) can overflow into a lease or deadline in
// the past; docs/cli.md "Bounds" lists the limits the inputs are checked against first.

/// The latest instant queuectl represents: 9999-12-31T23:59:59.999Z (RFC 3339 keeps 4 digits).
inline constexpr std::int64_t max_time_ms = 253402300799999;
/// The longest duration computed: the span from the epoch to max_time_ms.
inline constexpr milliseconds max_duration{max_time_ms};

/// Seconds (any double) to milliseconds, rounded, clamped to [0, max_duration]; NaN is 0.
inline milliseconds saturating_ms(double seconds) {
  if (!(seconds > 0)) return milliseconds(0);  // also NaN
  const double ms = seconds * 1000.0;
  if (!(ms < static_cast<double>(max_duration.count()))) return max_duration;
  return milliseconds(std::llround(ms));
}

/// `t + d` clamped to [epoch, max_time_ms]; a negative `d` is treated as 0.
inline time_point saturating_add(time_point t, milliseconds d) {
  const std::int64_t base = to_ms(t);
  const std::int64_t add = d.count() > 0 ? d.count() : 0;
  if (base >= max_time_ms || add >= max_time_ms - base) return from_ms(max_time_ms);
  return from_ms(base + add);
}

/// A steady-clock deadline `d` from `start`, clamped so it never wraps into the past.
template <class Clock, class Dur>
std::chrono::time_point<Clock, Dur> saturating_deadline(std::chrono::time_point<Clock, Dur> start, milliseconds d) {
  using tp = std::chrono::time_point<Clock, Dur>;
  const auto room = std::chrono::duration_cast<milliseconds>(tp::max() - start);
  if (d.count() <= 0) return start;
  if (d >= room) return tp::max();
  return start + std::chrono::duration_cast<Dur>(d);
}

/// Formats as RFC 3339 UTC with millisecond precision: `2026-11-22T13:41:40.123Z`.
inline std::string to_rfc3339(time_point t) {
  const std::int64_t ms = to_ms(t);
  std::int64_t secs = ms / 1000, frac = ms % 1000;
  if (frac < 0) { frac += 1000; --secs; }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  return buf;
}

namespace detail {
inline bool take_digits(std::string_view& s, int n, int& out) {
  if (s.size() < static_cast<std::size_t>(n)) return false;
  out = 0;
  for (int i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  s.remove_prefix(n);
  return true;
}
inline bool take_char(std::string_view& s, std::string_view any_of) {
  if (s.empty() || any_of.find(s.front()) == std::string_view::npos) return false;
  s.remove_prefix(1);
  return true;
}
}  // namespace detail

/// Parses RFC 3339 (`2026-11-22T13:41:40Z`, fractional seconds and `+hh:mm` offsets allowed).
/// Returns nullopt for anything else, including out-of-range fields.
inline std::optional<time_point> parse_rfc3339(std::string_view s) {
  using detail::take_char;
  using detail::take_digits;
  int y, mo, d, h, mi, sec;
  if (!take_digits(s, 4, y) || !take_char(s, "-") || !take_digits(s, 2, mo) || !take_char(s, "-") ||
      !take_digits(s, 2, d) || !take_char(s, "Tt ") || !take_digits(s, 2, h) || !take_char(s, ":") ||
      !take_digits(s, 2, mi) || !take_char(s, ":") || !take_digits(s, 2, sec))
    return std::nullopt;
  int ms = 0;
  if (take_char(s, ".")) {
    int digits = 0;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
      if (digits < 3) ms = ms * 10 + (s.front() - '0');
      ++digits;
      s.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  int offset_min = 0;
  if (take_char(s, "Zz")) {
  } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    const int sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
    int oh, om;
    if (!take_digits(s, 2, oh) || !take_char(s, ":") || !take_digits(s, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (!s.empty()) return std::nullopt;
  static constexpr int days_in[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in[mo - 1] || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  const auto days = std::chrono::sys_days(ymd);
  auto t = std::chrono::time_point_cast<milliseconds>(days) + std::chrono::hours(h) + std::chrono::minutes(mi) +
           std::chrono::seconds(sec) + milliseconds(ms) - std::chrono::minutes(offset_min);
  return time_point(t.time_since_epoch());
}

}  // namespace queuectl
