// Polling with a deadline: tests never sleep a fixed time to wait for something.
#pragma once

#include <chrono>
#include <thread>

namespace queuectl::test {

/// Calls `pred` every few milliseconds until it returns true (→ true) or `timeout` passes (→ false).
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace queuectl::test
