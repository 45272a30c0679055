/// @file
/// @brief Friendly alias: an in-memory queue (no persistence, no SOCI).
#pragma once

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/storage/memory_storage.hpp"

namespace queuectl {

/// @brief `basic_queue` over thread-safe memory storage, exponential backoff by default.
///
/// @code
/// queuectl::memory_queue<queuectl::function_executor<F>> q(queuectl::function_executor{f}, {});
/// @endcode
template <executor_policy Executor, backoff_policy Backoff = exponential_backoff>
using memory_queue = basic_queue<memory_storage_mt, Backoff, Executor>;

}  // namespace queuectl
