/// @file
/// @brief Decorator that spreads another policy's delays, so retries of many jobs that
/// failed together do not hit a recovering service at the same instant.
#pragma once

#include <random>

#include "queuectl/concepts.hpp"
#include "queuectl/time.hpp"
#include "queuectl/queue_config.hpp"

namespace queuectl {

/// @brief `inner.delay(n)` scaled by a uniform factor in [1 - spread, 1 + spread].
template <backoff_policy Inner>
struct jittered {
  Inner inner{};
  double spread = 0.2;  ///< 0..1

  milliseconds delay(int failed_attempts) const {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const auto base = std::chrono::duration_cast<milliseconds>(inner.delay(failed_attempts));
    std::uniform_real_distribution<double> factor(1.0 - spread, 1.0 + spread);
    return saturating_ms(static_cast<double>(base.count()) / 1000.0 * factor(rng));
  }
  /// Forwards the persisted config to the inner policy when it takes one.
  void configure(const queue_config& c) {
    if constexpr (configurable_backoff<Inner, queue_config>) inner.configure(c);
  }
};

}  // namespace queuectl

#include "queuectl/backoff/exponential_backoff.hpp"
static_assert(queuectl::backoff_policy<queuectl::jittered<queuectl::exponential_backoff>>);
