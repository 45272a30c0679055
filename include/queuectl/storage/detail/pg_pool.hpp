/// @file
/// @brief PostgreSQL sessions: connection strings SOCI can take, how a failure is told apart
/// (lost connection, retryable conflict, for good), transactions and one-time statements.
/// Part of postgresql_storage (include "queuectl/storage/postgresql_storage.hpp"), whose
/// run() leases pooled sessions and retries on these failures.
#pragma once

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <string>
#include <utility>

#include "queuectl/error.hpp"

namespace queuectl::detail {

/// libpq accepts URLs and keyword strings, but SOCI 4.0.3 re-splits the string on spaces
/// and mangles a URL: parse it with libpq and hand SOCI `key='value'` pairs. Bad strings
/// fail here, at once, with libpq's reason.
inline std::string pg_keyword_form(const std::string& connection) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(connection.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw error(error_kind::invalid_input, "queuectl.storage.postgresql.connection", "bad connection string: " + why);
  }
  std::string out, bad;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    const std::string v = o->val;
    if (v.find_first_of(" \t\r\n\f\v") != std::string::npos) bad = o->keyword;
    if (!out.empty()) out += ' ';
    out += o->keyword;
    out += "='";
    for (char c : v) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  PQconninfoFree(opts);
  if (!bad.empty())
    throw error(error_kind::invalid_input, "queuectl.storage.postgresql.connection",
                "connection option '" + bad +
                    "' contains a space, which SOCI 4.0.3 cannot pass on"
                    " (a password can come from PGPASSWORD or ~/.pgpass instead)");
  return out;
}

inline bool pg_valid_identifier(const std::string& s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

/// How an operation failed: for good, with its connection, or on a conflict worth retrying as is.
enum class pg_failure { permanent, connection, retry_same_connection };

inline std::string pg_message(const soci::soci_error& e) {
  std::string what = e.get_error_message();
  if (what.empty()) what = e.what();
  for (char& c : what)
    if (c == '\n') c = ' ';
  return what;
}

/// "… ERROR:  permission denied for schema q LINE 1: …" -> "permission denied for schema q".
inline std::string pg_server_reason(std::string what) {
  if (const auto p = what.find("ERROR:"); p != std::string::npos) what.erase(0, what.find_first_not_of(' ', p + 6));
  if (const auto p = what.find(" LINE "); p != std::string::npos) what.erase(p);
  while (!what.empty() && what.back() == ' ') what.pop_back();
  return what;
}

inline error pg_translate(const soci::soci_error& e) {
  if (auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    const std::string state = pe->sqlstate();
    if (state == "22021" || state == "22P05" || state == "54000")
      return error(error_kind::invalid_input, "queuectl.storage.postgresql.value", pg_message(e));
  }
  return error(error_kind::storage, "queuectl.storage.postgresql", pg_message(e));
}

inline pg_failure pg_classify(soci::session& sql, const soci::soci_error& e, bool opening) {
  const std::string what = e.what();
  if (opening) {  // a refused or dropped connection is transient; bad credentials are not
    for (const char* transient : {"Connection refused", "could not connect", "starting up", "shutting down",
                                  "in recovery", "timeout expired", "closed the connection", "too many clients",
                                  "No such file or directory", "Network is unreachable", "Connection reset"})
      if (what.find(transient) != std::string::npos) return pg_failure::connection;
    return pg_failure::permanent;
  }
  std::string state;
  if (auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e)) state = pe->sqlstate();
  if (state == "40001" || state == "40P01") return pg_failure::retry_same_connection;
  if (e.get_error_category() == soci::soci_error::connection_error || state.rfind("08", 0) == 0 || state == "57P01" ||
      state == "57P02" || state == "57P03")
    return pg_failure::connection;
  auto* be = static_cast<soci::postgresql_session_backend*>(sql.get_backend());
  if (be == nullptr || be->conn_ == nullptr || PQstatus(be->conn_) != CONNECTION_OK) return pg_failure::connection;
  return pg_failure::permanent;
}

/// BEGIN … COMMIT, rolled back if not committed (e.g. on a throw).
struct pg_txn {
  soci::session& sql;
  bool done = false;
  explicit pg_txn(soci::session& s) : sql(s) { sql << "BEGIN"; }
  void commit() {
    sql << "COMMIT";
    done = true;
  }
  ~pg_txn() {
    if (!done) {
      try {
        sql << "ROLLBACK";
      } catch (...) {  // the connection may be gone: the server rolls back by itself
      }
    }
  }
};

template <class... Uses>
inline void pg_one_time(soci::statement& st, const std::string& text, Uses&&... uses) {
  st.alloc();
  st.prepare(text, soci::details::st_one_time_query);
  (st.exchange(std::forward<Uses>(uses)), ...);
  st.define_and_bind();
}

}  // namespace queuectl::detail
