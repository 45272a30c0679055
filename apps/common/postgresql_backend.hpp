// PostgreSQL support of the apps, in its own module (libqueuectl_storage_postgresql.so)
// that is loaded only when --db is a postgresql:// URL: libpq drags in ~20 shared
// libraries (Kerberos, LDAP, TLS) whose loading would otherwise triple the start-up time
// of every `queuectl` command run on SQLite.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "host_queue.hpp"

namespace queuectl::app {

/// What the module provides. Same toolchain as the apps (it is built with them).
class postgresql_backend {
 public:
  virtual ~postgresql_backend() = default;
  /// Opens the queue storage at `url` with a pool of `connections`; `on_retry` hears of
  /// each retry after a lost connection. Throws queuectl::error.
  virtual any_storage open(const std::string& url, std::size_t connections,
                           std::function<void(const std::string&)> on_retry) = 0;
  /// LISTEN/NOTIFY wake-ups from the database at `url` (the channel the storage notifies).
  virtual std::unique_ptr<job_watch> watch(const std::string& url, std::function<void()> on_change) = 0;
};

/// The module's one exported symbol (BOOST_DLL_ALIAS name).
inline constexpr const char* postgresql_backend_symbol = "queuectl_postgresql_backend";
using postgresql_backend_fn = postgresql_backend*();

/// Loads the module (once, kept for the life of the process). Throws queuectl::error
/// (invalid_input) naming where it looked when it is not installed.
postgresql_backend& load_postgresql_backend();

}  // namespace queuectl::app
