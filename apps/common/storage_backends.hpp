// The kinds of storage the apps open, chosen by the form of the --db location through one
// registry: opening, read-only opening, change watches and the schema version all ask
// the backend that accepts the location, so a new kind is one entry in
// storage_backends.cpp (docs/architecture.md, "Layers").
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "host_queue.hpp"

namespace queuectl::app {

/// @brief One kind of storage: which --db values it takes and how to open them.
class storage_backend {
 public:
  virtual ~storage_backend() = default;
  virtual std::string_view name() const = 0;
  /// Whether `db` names a database of this kind (a URL scheme, a keyword form, a path).
  virtual bool accepts(const std::string& db) const = 0;
  /// Whether the database is a local file (read-only opening and file checks apply).
  virtual bool is_file() const = 0;
  /// The schema version this build writes.
  virtual int schema_version() const = 0;
  /// Opens (creating or migrating when due); `connections` and `on_outage` concern
  /// networked kinds (pool size; each retry after a lost connection). Throws queuectl::error.
  virtual any_storage open(const std::string& db, std::size_t connections,
                           std::function<void(const std::string&)> on_outage) const = 0;
  /// Opens for reading only: nothing created or migrated (as open() where not a file).
  virtual any_storage open_read_only(const std::string& db) const = 0;
  /// Calls `on_change` from its own thread when another process may have added work.
  virtual std::unique_ptr<job_watch> watch(const std::string& db, std::function<void()> on_change) const = 0;
};

/// The backend for `db`: the first registered one that accepts it; SQLite, which takes
/// any path resolve_db() let through, is last.
const storage_backend& storage_backend_for(const std::string& db);

}  // namespace queuectl::app
