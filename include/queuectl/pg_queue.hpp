/// @file
/// @brief Friendly alias: a queue kept in a PostgreSQL database, shared by many hosts.
#pragma once

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/storage/postgresql_listener.hpp"
#include "queuectl/storage/postgresql_storage.hpp"

namespace queuectl {

/// @brief `basic_queue` over postgresql_storage (link `queuectl::postgresql`).
///
/// @code
/// queuectl::pg_queue<my_executor> q(my_executor{}, {}, "postgresql://app@db:5432/jobs", 8);
/// queuectl::postgresql_listener wake(q.storage().connection_string(), q.storage().notify_channel());
/// @endcode
template <executor_policy Executor, backoff_policy Backoff = exponential_backoff>
using pg_queue = basic_queue<postgresql_storage, Backoff, Executor>;

}  // namespace queuectl
