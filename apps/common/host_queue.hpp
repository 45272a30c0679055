// The queue type both apps use: storage chosen by the --db location (a SQLite file, or a
// postgresql:// URL where built with PostgreSQL), exponential backoff from the persisted
// config, executors from plugins.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/plugin/exporter_plugin.hpp"
#include "queuectl/plugin/plugin_executor.hpp"
#include "queuectl/storage/any_storage.hpp"

namespace queuectl::app {

using host_queue = basic_queue<any_storage, exponential_backoff, plugin_executor>;

/// Opens (creating if needed) the queue at `db`: a SQLite file, or a `postgresql://` URL
/// (then `connections` sizes the connection pool: one per worker slot plus the host's own,
/// and `on_outage` hears of each retry after a lost connection). Throws queuectl::error.
std::unique_ptr<host_queue> open_host_queue(const std::string& db, plugin_executor executor = {},
                                            std::size_t connections = 2,
                                            std::function<void(const std::string&)> on_outage = {});

/// Opens an existing SQLite queue for reading only (sqlite_options::read_only): nothing is
/// created or migrated. A PostgreSQL URL is opened as by open_host_queue.
std::unique_ptr<host_queue> open_host_queue_read_only(const std::string& db);

/// Tells idle workers that another process may have added work, without polling: inotify
/// on a SQLite database's WAL file, LISTEN on PostgreSQL. Calls `on_change` from its own
/// thread until destroyed.
class job_watch {
 public:
  virtual ~job_watch() = default;
  /// How wake-ups arrive ("inotify", "LISTEN/NOTIFY"), or "polling" if they cannot.
  virtual std::string how() const = 0;
  /// True when the database itself announces every new or returned job (LISTEN/NOTIFY):
  /// idle workers then poll only as a safety net (worker_pool_options::idle_poll).
  virtual bool announces_jobs() const { return false; }
};
std::unique_ptr<job_watch> watch_for_jobs(host_queue& q, const std::string& db, std::function<void()> on_change);

/// What `--plugin` loaded: executors (dispatched by job.executor) and exporters.
struct host_plugins {
  plugin_executor executors;
  std::vector<std::shared_ptr<exporter_plugin>> exporters;
};

/// Loads each plugin (by name or path). Throws queuectl::error with the loader's one-line
/// reason.
host_plugins load_plugins(const std::vector<std::string>& names, const std::vector<std::string>& dirs);

}  // namespace queuectl::app
