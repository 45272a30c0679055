// Where the database is: --db, else $QUEUECTL_DB, else $QUEUECTL_DB_PATH (the name other
// QueueCTL tools use), else $QUEUECTL_HOME/queue.db ($QUEUECTL_HOME defaulting to
// ~/.queuectl). Shared by queuectl and queuectl-host.
// A value is either PostgreSQL (a postgresql:// URL or libpq's keyword form
// `host=… dbname=…`) or a SQLite file path; anything that is neither is refused (exit 2),
// so a connection string never becomes a file named after it (docs/deploy.md).
#pragma once

#include <optional>
#include <string>

namespace queuectl::app {

/// Resolves the database location from the flag and the environment. For a file path,
/// checks it is a regular file (or does not exist yet: then creates its directory, 0700).
/// Throws queuectl::error invalid_input for a value that is neither a path nor PostgreSQL.
std::string resolve_db(const std::optional<std::string>& flag);

/// True for PostgreSQL: a `postgresql://` / `postgres://` URL or libpq keyword form
/// (`host=127.0.0.1 port=5432 dbname=q`, at least one known keyword, every word `key=value`).
bool is_postgresql_url(const std::string& db);
/// `db` fit for a log or error line: every password (URL user info, `?password=`,
/// `password=` / `sslpassword=` keywords) replaced by ***, control characters escaped.
std::string display_db(const std::string& db);
/// A PostgreSQL connection string with `connect_timeout` added when absent (the default
/// of `default_seconds`), so an unreachable server fails in seconds, not minutes.
std::string with_connect_timeout(const std::string& db, int default_seconds = 5);
/// The connect_timeout of a PostgreSQL connection string in seconds, if it names one.
std::optional<int> connect_timeout_of(const std::string& db);

}  // namespace queuectl::app
