/// @file
/// @brief Friendly alias: an in-memory queue (no persistence, no SOCI).
#pragma once

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/storage/memory_storage.hpp"

#include <utility>

namespace queuectl {

/// @brief `basic_queue` over thread-safe memory storage, exponential backoff by default.
///
/// @code
/// queuectl::memory_queue<queuectl::function_executor<F>> q(queuectl::function_executor{f}, {});
/// @endcode
/// make_memory_queue() spells the same without naming the types.
template <executor_policy Executor, backoff_policy Backoff = exponential_backoff>
using memory_queue = basic_queue<memory_storage_mt, Backoff, Executor>;

/// @brief An in-memory queue running `executor`, retrying with `backoff`; the queue's
/// type follows from the arguments.
///
/// @code
/// auto q = queuectl::make_memory_queue(queuectl::function_executor{send});
/// @endcode
template <executor_policy Executor, backoff_policy Backoff = exponential_backoff>
memory_queue<Executor, Backoff> make_memory_queue(Executor executor, Backoff backoff = {}) {
  return memory_queue<Executor, Backoff>(std::move(executor), std::move(backoff));  // no move: elided
}

}  // namespace queuectl
