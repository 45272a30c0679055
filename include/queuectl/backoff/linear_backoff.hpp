/// @file
/// @brief step × n after the n-th failure, capped.
#pragma once

#include <algorithm>

#include "queuectl/concepts.hpp"

namespace queuectl {

/// @brief Waits `step * n` after the n-th failed attempt, never more than `max`.
struct linear_backoff {
  milliseconds step{1000};
  milliseconds max{std::chrono::hours(1)};

  milliseconds delay(int failed_attempts) const { return std::min(max, step * std::max(1, failed_attempts)); }
};
static_assert(backoff_policy<linear_backoff>);

}  // namespace queuectl
