/// @file
/// @brief The database's clock as seen from one host: measured now and then, carried
/// forward by the monotonic clock in between (docs/deploy.md, "Clock skew and steps").
#pragma once

#include <cstdlib>

namespace queuectl::detail {

/// Translates between a host's wall clock (the times callers pass) and the database's.
///
/// A measurement pins the database time to a monotonic instant; afterwards the database
/// time is `db_at_sync + (steady_now - steady_at_sync)`, whatever the wall clock does.
/// The translation offset (database − wall) is kept constant between measurements, so a
/// time written and read back is exact, and replaced only when the wall clock has moved
/// away from that estimate by more than `step_ms`: the clock was stepped (`check` says so
/// at once; the caller then measures again). Not thread-safe: the storage holds a mutex.
class db_clock {
 public:
  explicit db_clock(long long step_ms = 250) : step_ms_(step_ms) {}

  /// The database clock read `db_ms` at monotonic time `steady_ns` (the middle of the
  /// round trip), when the wall clock read `local_ms`; `noise_ms` bounds the error.
  /// The offset changes only if it moved by more than the noise (or on the first call).
  void measured(long long db_ms, long long local_ms, long long steady_ns, long long noise_ms) {
    db_at_sync_ms_ = db_ms;
    steady_at_sync_ns_ = steady_ns;
    const long long off = db_ms - local_ms;
    if (!synced_ || std::llabs(off - offset_ms_) > noise_ms) offset_ms_ = off;
    synced_ = true;
  }

  /// The database time now, from the last measurement and the monotonic clock.
  long long db_now_ms(long long steady_ns) const { return db_at_sync_ms_ + (steady_ns - steady_at_sync_ns_) / 1000000; }

  /// Compares the wall clock with the monotonic estimate of the database time. When they
  /// disagree with the offset by more than `step_ms` the wall clock was stepped: the
  /// offset follows at once and the result is true (measure again soon).
  bool check(long long local_ms, long long steady_ns) {
    if (!synced_) return false;
    const long long off = db_now_ms(steady_ns) - local_ms;
    if (std::llabs(off - offset_ms_) <= step_ms_) return false;
    offset_ms_ = off;
    return true;
  }

  bool synced() const noexcept { return synced_; }
  /// Database time minus wall time, in milliseconds.
  long long offset_ms() const noexcept { return offset_ms_; }

 private:
  long long step_ms_;
  bool synced_ = false;
  long long offset_ms_ = 0;
  long long db_at_sync_ms_ = 0;
  long long steady_at_sync_ns_ = 0;
};

}  // namespace queuectl::detail
