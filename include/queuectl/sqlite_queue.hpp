/// @file
/// @brief Friendly alias: a queue persisted in one SQLite file, shareable by processes.
#pragma once

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/storage/sqlite_storage.hpp"

namespace queuectl {

/// @brief `basic_queue` over sqlite_storage (link `queuectl::sqlite`).
///
/// @code
/// queuectl::sqlite_queue<my_executor> q(my_executor{}, {}, "/var/lib/app/jobs.db");
/// @endcode
template <executor_policy Executor, backoff_policy Backoff = exponential_backoff>
using sqlite_queue = basic_queue<sqlite_storage, Backoff, Executor>;

}  // namespace queuectl
