/// @file
/// @brief step × n after the n-th failure, capped.
#pragma once

#include <algorithm>

#include "queuectl/concepts.hpp"
#include "queuectl/time.hpp"

namespace queuectl {

/// @brief Waits `step * n` after the n-th failed attempt, never more than `max`.
struct linear_backoff {
  milliseconds step{1000};
  milliseconds max{std::chrono::hours(1)};

  milliseconds delay(int failed_attempts) const {
    // step * n in double: an int64 product could overflow; saturating_ms clamps it.
    const double secs = static_cast<double>(step.count()) / 1000.0 * std::max(1, failed_attempts);
    return std::min(max, saturating_ms(secs));
  }
};
static_assert(backoff_policy<linear_backoff>);

}  // namespace queuectl
