/// @file
/// @brief The database's timeline for postgresql_storage: the offset between the callers'
/// clock and the database clock, measured and kept right (docs/deploy.md, "Clock skew and
/// steps"). Part of postgresql_storage (include "queuectl/storage/postgresql_storage.hpp").
#pragma once

#include <soci/soci.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <mutex>

#include "queuectl/job.hpp"
#include "queuectl/storage/detail/db_clock.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail {

/// Translates times between the callers' clock and the database's (stored times are the
/// database's) and keeps the offset right.
class pg_clock {
 public:
  void configure(long long step_ms, milliseconds resync, std::function<time_point()> local_clock,
                 std::function<std::chrono::steady_clock::time_point()> monotonic_clock) {
    clock_ = db_clock(step_ms);
    resync_ = resync;
    local_clock_ = std::move(local_clock);
    monotonic_clock_ = std::move(monotonic_clock);
  }

  /// Database clock minus the local clock, as last measured.
  milliseconds offset() const noexcept { return milliseconds(off_.load()); }
  long long db(time_point t) const noexcept { return to_ms(t) + off(); }
  time_point local(long long ms) const noexcept { return from_ms(ms - off()); }
  job to_local(job j) const {
    j.run_at = local(to_ms(j.run_at));
    j.created_at = local(to_ms(j.created_at));
    j.updated_at = local(to_ms(j.updated_at));
    if (j.lease_expires_at) j.lease_expires_at = local(to_ms(*j.lease_expires_at));
    return j;
  }

  /// Keeps the offset between the callers' clock and the database's right (detail::db_clock):
  /// measures it (best of three by round trip) when the storage opens, every clock_resync,
  /// and at once when the wall clock stepped — detected on every operation by comparing
  /// it with the database time carried forward by the monotonic clock since the last
  /// measurement. Between measurements the offset stays put, so times round-trip exactly.
  void maybe_sync(soci::session& sql) {
    {
      std::lock_guard lock(clock_mu_);
      if (clock_.synced()) {
        const long long steady_ns = monotonic_ns();
        if (clock_.check(to_ms(local_clock_()), steady_ns)) {  // stepped: follow now, confirm soon
          off_.store(clock_.offset_ms());
          resync_due_ = true;
        }
        const bool periodic = resync_.count() > 0 && steady_ns >= next_sync_ns_;
        if (syncing_ || !(periodic || resync_due_)) return;
      }
      syncing_ = true;  // this thread measures; the others carry on with the current offset
    }
    struct done_guard {
      pg_clock& s;
      ~done_guard() {
        std::lock_guard lock(s.clock_mu_);
        s.syncing_ = false;
      }
    } done{*this};
    long long best_rtt_ns = std::numeric_limits<long long>::max(), best_db = 0, best_local = 0, best_mid = 0;
    for (int i = 0; i < 3; ++i) {
      const long long local_ms = to_ms(local_clock_());
      const long long start_ns = monotonic_ns();
      long long db_ms = 0;
      sql << "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)", soci::into(db_ms);
      const long long rtt_ns = monotonic_ns() - start_ns;
      if (rtt_ns < best_rtt_ns) {
        best_rtt_ns = rtt_ns;
        best_db = db_ms;
        best_local = local_ms + rtt_ns / 2000000;  // the wall clock when the server read its own
        best_mid = start_ns + rtt_ns / 2;
      }
    }
    std::lock_guard lock(clock_mu_);
    clock_.measured(best_db, best_local, best_mid, std::max<long long>(20, best_rtt_ns / 1000000));
    off_.store(clock_.offset_ms());
    next_sync_ns_ = monotonic_ns() + std::chrono::nanoseconds(resync_).count();
    resync_due_ = false;
  }

 private:
  long long off() const noexcept { return off_.load(std::memory_order_relaxed); }
  long long monotonic_ns() const {
    const auto t = monotonic_clock_ ? monotonic_clock_() : std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  milliseconds resync_{60000};
  std::function<time_point()> local_clock_;
  std::function<std::chrono::steady_clock::time_point()> monotonic_clock_;
  std::atomic<long long> off_{0};  // clock_.offset_ms(), readable without the mutex
  std::mutex clock_mu_;            // guards the members below
  db_clock clock_;
  long long next_sync_ns_ = 0;
  bool resync_due_ = false;
  bool syncing_ = false;
};

}  // namespace queuectl::detail
