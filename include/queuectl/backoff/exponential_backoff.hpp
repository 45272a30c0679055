/// @file
/// @brief base^n seconds after the n-th failure, capped.
#pragma once

#include <algorithm>
#include <cmath>

#include "queuectl/concepts.hpp"
#include "queuectl/time.hpp"
#include "queuectl/queue_config.hpp"

namespace queuectl {

/// @brief Waits `base ^ n` seconds after the n-th failed attempt (base 2: 2 s, 4 s, 8 s),
/// never more than `max_seconds`. Configured from `backoff-base` / `backoff-max`.
struct exponential_backoff {
  double base = 2.0;
  double max_seconds = 3600.0;

  milliseconds delay(int failed_attempts) const {
    // pow may be inf (1e200^2): min() keeps the cap, saturating_ms the conversion.
    const double secs = std::min(max_seconds, std::pow(base, std::max(1, failed_attempts)));
    return saturating_ms(secs);
  }
  void configure(const queue_config& c) {
    base = c.backoff_base;
    max_seconds = c.backoff_max;
  }
};
static_assert(backoff_policy<exponential_backoff>);

}  // namespace queuectl
