/// @file
/// @brief The same wait after every failure.
#pragma once

#include "queuectl/concepts.hpp"

namespace queuectl {

/// @brief Waits `wait` after every failed attempt (0 retries immediately).
struct constant_backoff {
  milliseconds wait{1000};

  milliseconds delay(int) const { return wait; }
};
static_assert(backoff_policy<constant_backoff>);

}  // namespace queuectl
