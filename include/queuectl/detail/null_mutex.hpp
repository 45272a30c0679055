/// @file
/// @brief A mutex that does nothing, for single-threaded policy instantiations.
#pragma once

namespace queuectl {

/// @brief Satisfies Lockable with no cost; `memory_storage_st` uses it (spdlog's `_st` idea).
struct null_mutex {
  void lock() noexcept {}
  void unlock() noexcept {}
  bool try_lock() noexcept { return true; }
};

}  // namespace queuectl
