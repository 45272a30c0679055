/// @file
/// @brief Clock, millisecond conversions and RFC 3339 formatting/parsing.
#pragma once

#include <chrono>
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
