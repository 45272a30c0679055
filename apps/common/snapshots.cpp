#include "snapshots.hpp"

#include <algorithm>

namespace queuectl::app {

double throughput_per_minute(const metrics_snapshot& m) {
  const attempt_stats& st = m.stats;
  if (st.finished == 0) return 0;
  double minutes;
  if (m.window) minutes = static_cast<double>(m.window->count()) / 60'000.0;
  else if (st.first_started && st.last_finished)
    minutes = static_cast<double>((*st.last_finished - *st.first_started).count()) / 60'000.0;
  else return 0;
  minutes = std::max(minutes, 1.0 / 60.0);  // under a second: count it as one second
  return static_cast<double>(st.finished) / minutes;
}

}  // namespace queuectl::app
