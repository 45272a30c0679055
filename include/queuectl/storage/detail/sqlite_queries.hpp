/// @file
/// @brief The reads of sqlite_storage: jobs, counts, attempts, statistics, the claim plan.
/// Member definitions of sqlite_storage, included by "queuectl/storage/sqlite_storage.hpp".
#pragma once

#include "queuectl/storage/detail/job_list_sql.hpp"
#include "queuectl/storage/detail/soci_stats.hpp"
#include "queuectl/storage/sqlite_storage.hpp"

namespace queuectl {

inline std::optional<time_point> sqlite_storage::next_due(const claim_request& req) {
  if (req.executors && req.executors->empty()) return std::nullopt;
  return locked([&]() -> std::optional<time_point> {
    const int any_executor = req.executors ? 0 : 1;
    const std::string executors = req.executors ? detail::names_to_json(*req.executors) : "[]";
    const std::string queues = detail::names_to_json(req.queues);
    const int any_queue = req.queues.empty() ? 1 : 0;
    long long first = 0;
    soci::indicator ind = soci::i_null;
    sql_ << "SELECT MIN(run_at) FROM jobs INDEXED BY jobs_claim WHERE state IN ('pending', 'failed')" +
                std::string(executor_filter) + " AND (:anyq = 1 OR queue IN (SELECT value FROM json_each(:qs)))",
        soci::use(any_executor, "anyex"), soci::use(executors, "ex"), soci::use(any_queue, "anyq"),
        soci::use(queues, "qs"), soci::into(first, ind);
    if (ind == soci::i_null) return std::nullopt;
    return from_ms(first);
  });
}

inline std::optional<job> sqlite_storage::get(std::string_view id) {
  return locked([&]() -> std::optional<job> {
    const std::string i(id);
    soci::rowset<soci::row> rows = (sql_.prepare << "SELECT " << detail::job_columns << " FROM jobs WHERE id = :id", soci::use(i));
    for (const auto& r : rows) return detail::job_from_row(r);
    return std::nullopt;
  });
}

inline std::vector<job> sqlite_storage::list(const list_filter& f) {
  return locked([&] {
    std::vector<job> out;
    detail::job_list_sql q(f, detail::like_dialect::sqlite);
    detail::select_rows(
        sql_, q.text, [&](soci::statement& st) { q.bind(st); },
        [&](const soci::row& r) { out.push_back(detail::job_from_row(r)); });
    return out;
  });
}

inline state_counts sqlite_storage::counts() {
  return locked([&] {
    state_counts c{};
    soci::rowset<soci::row> rows = (sql_.prepare << detail::sql::counts_by_state);
    for (const auto& r : rows)
      if (auto s = parse_job_state(detail::row_text(r, 0))) at(c, *s) = static_cast<std::size_t>(detail::row_int(r, 1));
    return c;
  });
}

inline std::map<std::string, state_counts> sqlite_storage::counts_by_queue() {
  return locked([&] {
    std::map<std::string, state_counts> out;
    soci::rowset<soci::row> rows = (sql_.prepare << detail::sql::counts_by_queue);
    for (const auto& r : rows)
      if (auto s = parse_job_state(detail::row_text(r, 1)))
        at(out[detail::row_text(r, 0)], *s) = static_cast<std::size_t>(detail::row_int(r, 2));
    return out;
  });
}

inline std::map<std::string, std::size_t> sqlite_storage::waiting_by_executor() {
  return locked([&] {
    std::map<std::string, std::size_t> out;
    soci::rowset<soci::row> rows = (sql_.prepare << "SELECT executor, COUNT(*) FROM jobs INDEXED BY jobs_claim "
                                                    "WHERE state IN ('pending', 'failed') GROUP BY executor");
    for (const auto& r : rows) out[detail::row_text(r, 0)] = static_cast<std::size_t>(detail::row_int(r, 1));
    return out;
  });
}

inline std::vector<attempt_record> sqlite_storage::attempts(std::string_view id) {
  return locked([&] {
    std::vector<attempt_record> out;
    const std::string i(id);
    // The ended attempts, then the running one, which is kept on the job row.
    soci::rowset<soci::row> rows =
        (sql_.prepare << "SELECT " << detail::attempt_columns << " FROM attempts WHERE job_id = :id UNION ALL "
                      << "SELECT id, attempt_seq, lease_owner, COALESCE(attempt_started_at, updated_at), NULL, 'running', "
                         "NULL, '', '' FROM jobs WHERE id = :id2 AND state = 'processing' ORDER BY number",
         soci::use(i), soci::use(i));
    for (const auto& r : rows) out.push_back(detail::attempt_from_row(r));
    return out;
  });
}

inline attempt_stats sqlite_storage::stats(std::optional<time_point> since) {
  return locked([&] {
    return detail::soci_attempt_stats(sql_, since ? to_ms(*since) : std::numeric_limits<long long>::min(), from_ms);
  });
}

inline std::vector<minute_count> sqlite_storage::finished_per_minute(time_point since) {
  return locked([&] { return detail::soci_finished_per_minute(sql_, to_ms(since), 0); });
}

inline std::vector<std::string> sqlite_storage::claim_query_plan(const std::optional<std::vector<std::string>>& executors) {
  return locked([&] {
    std::vector<std::string> out;
    long long now_ms = to_ms(now());
    int lim = 1;
    int any_executor = executors ? 0 : 1;
    std::string names = executors ? detail::names_to_json(*executors) : "[]";
    soci::rowset<soci::row> rows =
        (sql_.prepare << "EXPLAIN QUERY PLAN SELECT seq FROM jobs INDEXED BY jobs_claim WHERE state IN ('pending', 'failed') AND run_at <= :now"
                      << executor_filter << " ORDER BY priority DESC, run_at, seq LIMIT :lim",
         soci::use(now_ms, "now"), soci::use(any_executor, "anyex"), soci::use(names, "ex"), soci::use(lim, "lim"));
    for (const auto& r : rows) out.push_back(detail::row_text(r, 3));
    return out;
  });
}

}  // namespace queuectl
