/// @file
/// @brief The `SELECT … FROM jobs` of a list_filter, shared by the SOCI storages: state,
/// queue, executor and text filters and keyset paging in the WHERE, every value a bound
/// parameter.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <limits>
#include <string>

#include "queuectl/storage/detail/soci_rows.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl::detail {

/// How a text search is spelled: SQLite's LIKE ignores ASCII case already; PostgreSQL's
/// needs ILIKE. Both read `\` as the escape character below.
enum class like_dialect { sqlite, postgresql };

/// Build from the filter, prepare `text` on a statement and call bind(): the bound values
/// live in this object. Without a text filter the WHERE uses only indexed columns.
struct job_list_sql {
  std::string text;
  std::string state, queue, executor, pattern;
  long long min_seq = 0, max_seq = 0, limit = 0, offset = 0;

  job_list_sql(const list_filter& f, like_dialect dialect)
      : state(f.state ? std::string(to_string(*f.state)) : std::string()),
        queue(f.queue.value_or("")),
        executor(f.executor.value_or("")),
        min_seq(f.min_seq.value_or(0)),
        max_seq(f.max_seq.value_or(0)),
        limit(f.limit == 0 ? std::numeric_limits<long long>::max() : static_cast<long long>(f.limit)),
        offset(static_cast<long long>(f.offset)) {
    text = std::string("SELECT ") + job_columns + " FROM jobs WHERE 1 = 1";
    if (f.state) text += " AND state = :s";
    if (f.queue) text += " AND queue = :q";
    if (f.executor) text += " AND executor = :x";
    if (f.min_seq) text += " AND seq >= :min_seq";
    if (f.max_seq) text += " AND seq <= :max_seq";
    if (!f.text.empty()) {
      pattern = "%" + escaped(ascii_lower(f.text)) + "%";
      const std::string like = dialect == like_dialect::postgresql ? " ILIKE " : " LIKE ";
      // A name per use: SOCI binds each placeholder once.
      text += " AND (id" + like + ":t1 ESCAPE '\\' OR command" + like + ":t2 ESCAPE '\\' OR last_error" + like +
              ":t3 ESCAPE '\\')";
    }
    text += std::string(" ORDER BY seq ") + (f.newest_first ? "DESC" : "ASC") + " LIMIT :lim OFFSET :off";
  }

  void bind(soci::statement& st) {
    if (has(":s")) st.exchange(soci::use(state, "s"));
    if (has(":q")) st.exchange(soci::use(queue, "q"));
    if (has(":x")) st.exchange(soci::use(executor, "x"));
    if (has(":min_seq")) st.exchange(soci::use(min_seq, "min_seq"));
    if (has(":max_seq")) st.exchange(soci::use(max_seq, "max_seq"));
    if (has(":t1")) {
      st.exchange(soci::use(pattern, "t1"));
      st.exchange(soci::use(pattern, "t2"));
      st.exchange(soci::use(pattern, "t3"));
    }
    st.exchange(soci::use(limit, "lim"));
    st.exchange(soci::use(offset, "off"));
  }

 private:
  bool has(const char* name) const { return text.find(name) != std::string::npos; }

  /// The needle as a LIKE pattern's literal part: %, _ and \ stand for themselves.
  static std::string escaped(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '%' || c == '_' || c == '\\') out += '\\';
      out += c;
    }
    return out;
  }
};

}  // namespace queuectl::detail
