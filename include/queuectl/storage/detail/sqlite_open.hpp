/// @file
/// @brief Opening, migrating and read-only opening of sqlite_storage's file.
/// Member definitions of sqlite_storage, included by "queuectl/storage/sqlite_storage.hpp".
#pragma once

#include "queuectl/storage/sqlite_storage.hpp"

namespace queuectl {

inline sqlite_storage::sqlite_storage(std::string path, sqlite_options opts) : path_(std::move(path)), opts_(std::move(opts)) {
  if (opts_.read_only) {
    detail::sqlite_check_regular_file(path_);
    open_read_only();
    return;
  }
  detail::sqlite_create_private_file(path_);
  wrap([&] {
    // A file that is not a database is reported after a few attempts rather than retried
    // for ever by a host (a busy lock is not such a failure: it waits in busy_timeout).
    for (int attempt = 1;; ++attempt) {
      try {
        sql_.open(soci::sqlite3, "db=" + detail::sqlite_quoted(path_) + " timeout=" + std::to_string(std::max(1, opts_.busy_timeout_ms / 1000)));
        sql_ << "PRAGMA busy_timeout=" << opts_.busy_timeout_ms;
        exec_retrying("PRAGMA journal_mode=WAL");
        const std::string sync = opts_.synchronous == "FULL" ? "FULL" : opts_.synchronous == "OFF" ? "OFF" : "NORMAL";
        sql_ << "PRAGMA synchronous=" + sync;
        migrate();
        return;
      } catch (const soci::soci_error& e) {
        if (!detail::sqlite_is_not_a_database(e.what())) throw;
        sql_.close();
        if (attempt >= std::max(1, opts_.corrupt_attempts))
          throw error(error_kind::storage, "queuectl.storage.corrupt",
                      path_ + " is not a usable queuectl database (" + std::string(e.what()) + ") after " +
                          std::to_string(attempt) + " attempts: restore it from a backup or move it away");
        std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
      }
    }
  });
}

inline void sqlite_storage::migrate() {
  // Fast path for every open after the first: the file header's user_version mirrors
  // the schema version, and reading it needs neither a write lock nor a schema parse
  // (a CLI call opens the database once per process).
  int header_version = 0;
  sql_ << "PRAGMA user_version", soci::into(header_version);
  if (header_version == schema_version) return;
  write_txn tx(*this);
  sql_ << "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)";
  int version = 0;
  soci::indicator ind = soci::i_null;
  sql_ << "SELECT MAX(version) FROM schema_version", soci::into(version, ind);
  if (ind == soci::i_null) version = 0;
  if (version > schema_version)
    throw error(error_kind::storage, "queuectl.storage.schema_too_new",
                path_ + " has schema version " + std::to_string(version) + "; this queuectl understands up to " +
                    std::to_string(schema_version) + ": upgrade queuectl");
  detail::sqlite_schema_steps(sql_, version);
  sql_ << "PRAGMA user_version = " + std::to_string(schema_version);
  tx.commit();
}

inline void sqlite_storage::open_read_only() {
  wrap([&] {
    try {
      sql_.open(soci::sqlite3, "db=" + detail::sqlite_quoted(path_) + " readonly=1 timeout=" + std::to_string(std::max(1, opts_.busy_timeout_ms / 1000)));
      sql_ << "PRAGMA busy_timeout=" << opts_.busy_timeout_ms;
      check_schema_read_only();
      return;
    } catch (const soci::soci_error& e) {
      const std::string what = e.what();
      if (what.find("readonly") == std::string::npos && what.find("unable to open") == std::string::npos) throw;
      sql_.close();
    }
    sql_.open(soci::sqlite3, "db=" + detail::sqlite_quoted(detail::sqlite_immutable_uri(path_)) + " readonly=1");
    check_schema_read_only();
  });
}

inline void sqlite_storage::check_schema_read_only() {
  int header_version = 0;
  sql_ << "PRAGMA user_version", soci::into(header_version);
  if (header_version != schema_version)
    throw error(error_kind::storage, "queuectl.storage.read_only_schema",
                path_ + " has schema version " + std::to_string(header_version) + ", this queuectl needs " +
                    std::to_string(schema_version) + ": open it once with write access to migrate it");
}

}  // namespace queuectl
