/// @file
/// @brief A statement prepared once on the sqlite3 handle under a SOCI session, for the
/// SQLite storage's hot paths (claim, finish, renew, BEGIN/COMMIT).
///
/// SOCI's type-erased rows cost more than the SQL itself on a claim; these statements
/// bind and read columns directly (docs/architecture.md, "SQLite hot path").
#pragma once

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace queuectl::detail {

class sqlite_statement {
 public:
  sqlite_statement(soci::session& session, const std::string& sql)
      : db_(static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_) {
    if (sqlite_api::sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                       &stmt_, nullptr) != SQLITE_OK)
      fail("prepare");
  }
  ~sqlite_statement() { sqlite_api::sqlite3_finalize(stmt_); }
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;

  /// Binds by parameter name (":owner"). Text is not copied: it must outlive the run.
  sqlite_statement& bind(const char* name, std::string_view v) {
    check(sqlite_api::sqlite3_bind_text(stmt_, index(name), v.data() ? v.data() : "", static_cast<int>(v.size()), static_cast<sqlite_api::sqlite3_destructor_type>(nullptr)), "bind");
    return *this;
  }
  template <std::integral I>
  sqlite_statement& bind(const char* name, I v) {
    check(sqlite_api::sqlite3_bind_int64(stmt_, index(name), static_cast<sqlite_api::sqlite3_int64>(v)), "bind");
    return *this;
  }
  sqlite_statement& bind(const char* name, double v) {
    check(sqlite_api::sqlite3_bind_double(stmt_, index(name), v), "bind");
    return *this;
  }
  sqlite_statement& bind(const char* name, std::optional<int> v) {
    if (v) return bind(name, *v);
    check(sqlite_api::sqlite3_bind_null(stmt_, index(name)), "bind");
    return *this;
  }

  /// One run: step() until it returns false; the destructor resets the statement (also
  /// when a step throws), so a transaction never commits over a half-read statement.
  class run {
   public:
    explicit run(sqlite_statement& s) : s_(s) {}
    ~run() { sqlite_api::sqlite3_reset(s_.stmt_); }
    run(const run&) = delete;
    run& operator=(const run&) = delete;
    /// True with a row to read, false when done.
    bool step() {
      const int rc = sqlite_api::sqlite3_step(s_.stmt_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      s_.fail("step");
    }
    /// Runs a statement that returns no rows; the number of rows it changed.
    int execute() {
      while (step()) {
      }
      return sqlite_api::sqlite3_changes(s_.db_);
    }
    bool is_null(int i) const { return sqlite_api::sqlite3_column_type(s_.stmt_, i) == SQLITE_NULL; }
    long long integer(int i) const { return sqlite_api::sqlite3_column_int64(s_.stmt_, i); }
    double real(int i) const { return sqlite_api::sqlite3_column_double(s_.stmt_, i); }
    std::string text(int i) const {
      const auto* p = sqlite_api::sqlite3_column_text(s_.stmt_, i);
      return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite_api::sqlite3_column_bytes(s_.stmt_, i)))
               : std::string();
    }
    std::optional<long long> opt_integer(int i) const {
      if (is_null(i)) return std::nullopt;
      return integer(i);
    }

   private:
    sqlite_statement& s_;
  };

 private:
  /// Names are string literals: their addresses are remembered, so a statement re-run per
  /// row (bulk insert) does not search its parameter names again each time.
  int index(const char* name) {
    for (const auto& [known, i] : indexes_)
      if (known == name) return i;
    const int i = sqlite_api::sqlite3_bind_parameter_index(stmt_, name);
    if (i == 0) throw soci::soci_error(std::string("sqlite3: no parameter ") + name);
    if (indexes_.size() < 64) indexes_.emplace_back(name, i);  // bounded, whatever the caller passes
    return i;
  }
  void check(int rc, const char* what) const {
    if (rc != SQLITE_OK) fail(what);
  }
  /// The message keeps SQLite's words ("database is locked"): callers retry on them.
  [[noreturn]] void fail(const char* what) const {
    throw soci::soci_error(std::string("sqlite3 ") + what + ": " + sqlite_api::sqlite3_errmsg(db_));
  }

  sqlite_api::sqlite3* db_;
  sqlite_api::sqlite3_stmt* stmt_ = nullptr;
  std::vector<std::pair<const char*, int>> indexes_;
};

}  // namespace queuectl::detail
