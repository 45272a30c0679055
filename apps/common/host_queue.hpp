// The queue type both apps use: storage chosen by the --db location (a SQLite file, or a
// postgresql:// URL where built with PostgreSQL), exponential backoff from the persisted
// config, executors from plugins.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>
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
std::unique_ptr<job_watch> watch_for_jobs(const std::string& db, std::function<void()> on_change);

/// Which executor plugins run in helper processes (`--isolate`, docs/plugins.md "Isolation").
enum class isolation_mode { none, third_party, all };
/// "none", "third-party", "all"; nullopt for anything else.
std::optional<isolation_mode> parse_isolation_mode(std::string_view s);

/// How to load plugins.
struct plugin_load_options {
  std::vector<std::string> dirs;  ///< --plugin-dir
  isolation_mode isolate = isolation_mode::third_party;
  /// The helper program (one that calls run_plugin_helper()); default: this program,
  /// re-executed through /proc/self/exe (the same binary even if replaced on disk since).
  std::string helper_path = "/proc/self/exe";
  std::function<void(const std::string&)> log;  ///< helper events (crash, restart)
};

/// What `--plugin` loaded: executors (dispatched by job.executor) and exporters.
struct host_plugins {
  plugin_executor executors;
  std::vector<std::shared_ptr<exporter_plugin>> exporters;
  /// One line per plugin: its name, kind, where it came from, in-process or isolated.
  std::vector<std::string> report;
  /// Every loaded plugin's name (the NAME of --plugin-opt NAME.KEY=VALUE).
  std::vector<std::string> names;
};

/// Loads each plugin (by name or path). Throws queuectl::error with the loader's one-line
/// reason.
host_plugins load_plugins(const std::vector<std::string>& names, const plugin_load_options& opts);

}  // namespace queuectl::app
