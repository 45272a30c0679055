/// @file
/// @brief Reads of postgresql_storage: the next due time, single jobs, listings, counts, attempts,
/// statistics and the claim plan.
/// Member definitions of postgresql_storage, included by "queuectl/storage/postgresql_storage.hpp".
#pragma once

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "queuectl/storage/detail/soci_sql.hpp"
#include "queuectl/storage/detail/job_list_sql.hpp"
#include "queuectl/storage/detail/soci_stats.hpp"
#include "queuectl/storage/postgresql_storage.hpp"

namespace queuectl {

inline std::optional<time_point> postgresql_storage::next_due(const claim_request& req) {
  if (req.executors && req.executors->empty()) return std::nullopt;
  return run([&](leased& l) {
    std::optional<time_point> first;
    const int any_executor = req.executors ? 0 : 1, any_queue = req.queues.empty() ? 1 : 0;
    const std::string executors = req.executors ? detail::names_to_json(*req.executors) : "[]";
    const std::string queues = detail::names_to_json(req.queues);
    detail::select_rows(
        l.sql,
        std::string("SELECT MIN(run_at) FROM jobs WHERE state IN ('pending', 'failed')") + detail::pg_executor_filter +
            " AND (:anyq = 1 OR queue = ANY(ARRAY(SELECT json_array_elements_text(CAST(:qs AS json)))))",
        [&](soci::statement& st) {
          st.exchange(soci::use(any_executor, "anyex"));
          st.exchange(soci::use(executors, "ex"));
          st.exchange(soci::use(any_queue, "anyq"));
          st.exchange(soci::use(queues, "qs"));
        },
        [&](const soci::row& r) {
          if (auto ms = detail::row_opt_int(r, 0)) first = local(*ms);
        });
    return first;
  });
}

inline std::optional<job> postgresql_storage::get(std::string_view id) {
  return run([&](leased& l) {
    std::optional<job> out;
    const std::string i(id);
    detail::select_rows(
        l.sql, std::string("SELECT ") + detail::job_columns + " FROM jobs WHERE id = :id",
        [&](soci::statement& st) { st.exchange(soci::use(i, "id")); },
        [&](const soci::row& r) { out = to_local(detail::job_from_row(r)); });
    return out;
  });
}

inline std::vector<job> postgresql_storage::list(const list_filter& f) {
  return run([&](leased& l) {
    std::vector<job> out;
    detail::job_list_sql q(f, detail::like_dialect::postgresql);
    detail::select_rows(
        l.sql, q.text, [&](soci::statement& st) { q.bind(st); },
        [&](const soci::row& r) { out.push_back(to_local(detail::job_from_row(r))); });
    return out;
  });
}

inline state_counts postgresql_storage::counts() {
  return run([&](leased& l) {
    state_counts c{};
    detail::select_rows(
        l.sql, detail::sql::counts_by_state, [](soci::statement&) {},
        [&](const soci::row& r) {
          if (auto s = parse_job_state(detail::row_text(r, 0)))
            at(c, *s) = static_cast<std::size_t>(detail::row_int(r, 1));
        });
    return c;
  });
}

inline std::map<std::string, state_counts> postgresql_storage::counts_by_queue() {
  return run([&](leased& l) {
    std::map<std::string, state_counts> out;
    detail::select_rows(
        l.sql, detail::sql::counts_by_queue, [](soci::statement&) {},
        [&](const soci::row& r) {
          if (auto s = parse_job_state(detail::row_text(r, 1)))
            at(out[detail::row_text(r, 0)], *s) = static_cast<std::size_t>(detail::row_int(r, 2));
        });
    return out;
  });
}

inline std::map<std::string, std::size_t> postgresql_storage::waiting_by_executor() {
  return run([&](leased& l) {
    std::map<std::string, std::size_t> out;
    detail::select_rows(
        l.sql, "SELECT executor, COUNT(*) FROM jobs WHERE state IN ('pending', 'failed') GROUP BY executor",
        [](soci::statement&) {},
        [&](const soci::row& r) { out[detail::row_text(r, 0)] = static_cast<std::size_t>(detail::row_int(r, 1)); });
    return out;
  });
}

inline std::vector<attempt_record> postgresql_storage::attempts(std::string_view id) {
  return run([&](leased& l) {
    std::vector<attempt_record> out;
    const std::string i(id);
    detail::select_rows(
        l.sql, std::string("SELECT ") + detail::attempt_columns + " FROM attempts WHERE job_id = :id ORDER BY number",
        [&](soci::statement& st) { st.exchange(soci::use(i, "id")); },
        [&](const soci::row& r) {
          attempt_record a = detail::attempt_from_row(r);
          a.started_at = local(to_ms(a.started_at));
          if (a.finished_at) a.finished_at = local(to_ms(*a.finished_at));
          out.push_back(std::move(a));
        });
    return out;
  });
}

inline attempt_stats postgresql_storage::stats(std::optional<time_point> since) {
  return run([&](leased& l) {
    return detail::soci_attempt_stats(l.sql, since ? db(*since) : std::numeric_limits<long long>::min(),
                                      [&](long long ms) { return local(ms); });
  });
}

inline std::vector<minute_count> postgresql_storage::finished_per_minute(time_point since) {
  return run([&](leased& l) {
    return detail::soci_finished_per_minute(l.sql, db(since), db(since) - to_ms(since));
  });
}

inline std::vector<std::string> postgresql_storage::claim_query_plan(
    const std::optional<std::vector<std::string>>& executors) {
  return run([&](leased& l) {
    std::vector<std::string> out;
    const long long n = db(queuectl::now()), lim = 1;
    const int any_executor = executors ? 0 : 1;
    const std::string names = executors ? detail::names_to_json(*executors) : "[]";
    detail::select_rows(
        l.sql,
        std::string("EXPLAIN SELECT seq FROM jobs WHERE state IN ('pending', 'failed') AND run_at <= :now") +
            detail::pg_executor_filter + " ORDER BY priority DESC, run_at, seq LIMIT :lim FOR UPDATE SKIP LOCKED",
        [&](soci::statement& st) {
          st.exchange(soci::use(n, "now"));
          st.exchange(soci::use(any_executor, "anyex"));
          st.exchange(soci::use(names, "ex"));
          st.exchange(soci::use(lim, "lim"));
        },
        [&](const soci::row& r) { out.push_back(detail::row_text(r, 0)); });
    return out;
  });
}

}  // namespace queuectl
