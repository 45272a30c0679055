// Where the database is: --db, else $QUEUECTL_DB, else $QUEUECTL_HOME/queue.db
// ($QUEUECTL_HOME defaults to ~/.queuectl). Shared by queuectl and queuectl-host.
#pragma once

#include <optional>
#include <string>

namespace queuectl::app {

/// Resolves the database location from the flag and the environment. For a file path,
/// creates its directory (0700) when missing. A `postgresql://` URL is returned as is.
std::string resolve_db(const std::optional<std::string>& flag);

/// True for a PostgreSQL URL (`postgresql://` or `postgres://`).
bool is_postgresql_url(const std::string& db);
/// `db` fit for a log line: a URL's password replaced by ***.
std::string display_db(const std::string& db);

}  // namespace queuectl::app
