/// @file
/// @brief Statistics over finished attempts for the SOCI storages (SQLite, PostgreSQL),
/// computed in SQL once for both: aggregates over the window, percentiles over a bounded
/// sample, counts per minute in one GROUP BY.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <vector>

#include "queuectl/storage/detail/soci_rows.hpp"
#include "queuectl/storage/detail/soci_sql.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl::detail {

/// attempt_stats of the attempts finished at or after `from` (the storage's clock, ms);
/// `local` turns a stored time into a local time_point.
template <class Local>
attempt_stats soci_attempt_stats(soci::session& sql, long long from, Local local) {
  attempt_stats s;
  // Read through row_int/row_double: the backends type these aggregates differently.
  double total_ms = 0;
  select_rows(
      sql, sql::finished_totals, [&](soci::statement& st) { st.exchange(soci::use(from, "f")); },
      [&](const soci::row& t) {
        s.finished = static_cast<std::size_t>(row_int(t, 0));
        if (s.finished == 0) return;
        s.succeeded = static_cast<std::size_t>(row_int(t, 1));
        s.failed = s.finished - s.succeeded;
        s.first_started = local(row_int(t, 2));
        s.last_finished = local(row_int(t, 3));
        total_ms = row_double(t, 4);
      });
  if (s.finished == 0) return s;

  std::vector<double> durations;
  const long long sample = static_cast<long long>(percentile_sample);
  select_rows(
      sql, sql::finished_recent_durations,
      [&](soci::statement& st) {
        st.exchange(soci::use(from, "f"));
        st.exchange(soci::use(sample, "lim"));
      },
      [&](const soci::row& r) { durations.push_back(static_cast<double>(row_int(r, 0))); });
  summarize_durations(s, std::move(durations));
  s.mean_ms = total_ms / static_cast<double>(s.finished);  // over the whole window, not the sample
  return s;
}

/// Finished attempts per local minute since `from` (the storage's clock, ms), oldest first;
/// `offset_ms` = storage clock - local clock.
inline std::vector<minute_count> soci_finished_per_minute(soci::session& sql, long long from, long long offset_ms) {
  std::vector<minute_count> out;
  select_rows(
      sql, sql::finished_by_minute,
      [&](soci::statement& st) {
        st.exchange(soci::use(offset_ms, "off"));
        st.exchange(soci::use(from, "f"));
      },
      [&](const soci::row& r) {
        const auto n = static_cast<std::size_t>(row_int(r, 1)), ok = static_cast<std::size_t>(row_int(r, 2));
        out.push_back({static_cast<std::int64_t>(row_int(r, 0)), ok, n - ok});
      });
  return out;
}

}  // namespace queuectl::detail
