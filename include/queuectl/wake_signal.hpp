/// @file
/// @brief A counter + condition variable that idle workers sleep on until work may be there.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace queuectl {

/// @brief Wakes idle workers when a job is enqueued in this process or an outside source
/// (file watcher, socket poke) reports a change. A generation counter means a notify that
/// lands between a worker's empty claim and its wait is not lost.
class wake_signal {
 public:
  /// Generation to pass to wait_for; read it *before* trying to claim.
  std::uint64_t generation() const {
    std::lock_guard lock(mu_);
    return generation_;
  }
  void notify() {
    {
      std::lock_guard lock(mu_);
      ++generation_;
    }
    cv_.notify_all();
  }
  /// Sleeps until the generation moves past `seen` or `timeout` passes. True if woken.
  template <class Rep, class Period>
  bool wait_for(std::uint64_t seen, std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return generation_ != seen; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;
};

}  // namespace queuectl
