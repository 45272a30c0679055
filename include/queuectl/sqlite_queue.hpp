/// @file
/// @brief Friendly alias: a queue persisted in one SQLite file, shareable by processes.
#pragma once

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/storage/sqlite_storage.hpp"

#include <string>
#include <utility>

namespace queuectl {

/// @brief `basic_queue` over sqlite_storage (link `queuectl::sqlite`).
///
/// @code
/// queuectl::sqlite_queue<my_executor> q(my_executor{}, {}, "/var/lib/app/jobs.db");
/// @endcode
template <executor_policy Executor, backoff_policy Backoff = exponential_backoff>
using sqlite_queue = basic_queue<sqlite_storage, Backoff, Executor>;

/// @brief A queue in the SQLite file `path` (created 0600 if missing) running `executor`,
/// retrying with `backoff`; the queue's type follows from the arguments.
///
/// @code
/// auto q = queuectl::make_sqlite_queue("/var/lib/app/jobs.db", my_executor{});
/// @endcode
template <executor_policy Executor, backoff_policy Backoff = exponential_backoff>
sqlite_queue<Executor, Backoff> make_sqlite_queue(std::string path, Executor executor, Backoff backoff = {},
                                                  sqlite_options options = {}) {
  return sqlite_queue<Executor, Backoff>(std::move(executor), std::move(backoff), std::move(path), std::move(options));
}

}  // namespace queuectl
