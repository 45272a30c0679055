/// @file
/// @brief Umbrella header for the core framework (no SOCI): job model, codec, policies,
/// memory storage, basic_queue and worker_pool. SQLite: include `queuectl/sqlite_queue.hpp`.
#pragma once

#include "queuectl/backoff/constant_backoff.hpp"
#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/backoff/jittered.hpp"
#include "queuectl/backoff/linear_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/concepts.hpp"
#include "queuectl/error.hpp"
#include "queuectl/executor/function_executor.hpp"
#include "queuectl/job.hpp"
#include "queuectl/job_codec.hpp"
#include "queuectl/memory_queue.hpp"
#include "queuectl/queue_config.hpp"
#include "queuectl/storage/memory_storage.hpp"
#include "queuectl/worker_pool.hpp"
