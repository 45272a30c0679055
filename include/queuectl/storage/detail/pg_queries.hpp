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
#include "queuectl/storage/postgresql_storage.hpp"

namespace queuectl {

inline std::optional<time_point> postgresql_storage::next_due(const claim_request& req) {
  if (req.executors && req.executors->empty()) return std::nullopt;
  return run([&](leased& l) {
    std::optional<time_point> first;
    const int any_executor = req.executors ? 0 : 1, any_queue = req.queues.empty() ? 1 : 0;
    const std::string executors = req.executors ? detail::names_to_json(*req.executors) : "[]";
    const std::string queues = detail::names_to_json(req.queues);
    detail::pg_select_rows(
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
    detail::pg_select_rows(
        l.sql, std::string("SELECT ") + detail::job_columns + " FROM jobs WHERE id = :id",
        [&](soci::statement& st) { st.exchange(soci::use(i, "id")); },
        [&](const soci::row& r) { out = to_local(detail::job_from_row(r)); });
    return out;
  });
}

inline std::vector<job> postgresql_storage::list(const list_filter& f) {
  return run([&](leased& l) {
    std::vector<job> out;
    const std::string state = f.state ? std::string(to_string(*f.state)) : std::string();
    const std::string queue = f.queue.value_or("");
    const int has_state = f.state ? 1 : 0, has_queue = f.queue ? 1 : 0;
    const long long limit = f.limit == 0 ? std::numeric_limits<long long>::max() : static_cast<long long>(f.limit);
    const long long offset = static_cast<long long>(f.offset);
    detail::pg_select_rows(
        l.sql,
        std::string("SELECT ") + detail::job_columns +
            " FROM jobs WHERE (:hs = 0 OR state = :s) AND (:hq = 0 OR queue = :q) ORDER BY seq " +
            (f.newest_first ? "DESC" : "ASC") + " LIMIT :lim OFFSET :off",
        [&](soci::statement& st) {
          st.exchange(soci::use(has_state, "hs"));
          st.exchange(soci::use(state, "s"));
          st.exchange(soci::use(has_queue, "hq"));
          st.exchange(soci::use(queue, "q"));
          st.exchange(soci::use(limit, "lim"));
          st.exchange(soci::use(offset, "off"));
        },
        [&](const soci::row& r) { out.push_back(to_local(detail::job_from_row(r))); });
    return out;
  });
}

inline state_counts postgresql_storage::counts() {
  return run([&](leased& l) {
    state_counts c{};
    detail::pg_select_rows(
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
    detail::pg_select_rows(
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
    detail::pg_select_rows(
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
    detail::pg_select_rows(
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
    attempt_stats s;
    const int has_from = since ? 1 : 0;
    const long long from = since ? db(*since) : 0;
    const char* where =
        " FROM attempts WHERE finished_at IS NOT NULL AND (:hf = 0 OR finished_at >= :f) "
        "AND outcome IN ('succeeded', 'failed', 'timed_out')";
    auto bind = [&](soci::statement& st) {
      st.exchange(soci::use(has_from, "hf"));
      st.exchange(soci::use(from, "f"));
    };
    std::vector<double> durations;
    detail::pg_select_rows(
        l.sql, std::string("SELECT finished_at - started_at") + where, bind,
        [&](const soci::row& r) { durations.push_back(static_cast<double>(detail::row_int(r, 0))); });
    if (durations.empty()) return s;
    detail::pg_select_rows(
        l.sql,
        std::string(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE outcome = 'succeeded'), MIN(started_at), MAX(finished_at)") +
            where,
        bind, [&](const soci::row& r) {
          s.finished = static_cast<std::size_t>(detail::row_int(r, 0));
          s.succeeded = static_cast<std::size_t>(detail::row_int(r, 1));
          s.failed = s.finished - s.succeeded;
          s.first_started = local(detail::row_int(r, 2));
          s.last_finished = local(detail::row_int(r, 3));
        });
    summarize_durations(s, std::move(durations));
    return s;
  });
}

inline std::vector<std::string> postgresql_storage::claim_query_plan(
    const std::optional<std::vector<std::string>>& executors) {
  return run([&](leased& l) {
    std::vector<std::string> out;
    const long long n = db(queuectl::now()), lim = 1;
    const int any_executor = executors ? 0 : 1;
    const std::string names = executors ? detail::names_to_json(*executors) : "[]";
    detail::pg_select_rows(
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
