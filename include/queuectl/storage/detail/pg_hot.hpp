/// @file
/// @brief The hot-path statements of postgresql_storage (claim, finish, renew), prepared once
/// per pooled session. Part of postgresql_storage (include "queuectl/storage/postgresql_storage.hpp").
#pragma once

#include <soci/soci.h>

#include <memory>
#include <string>

#include "queuectl/storage/detail/soci_rows.hpp"

namespace queuectl::detail {

/// Statements of the hot paths, prepared once per connection and re-executed with new
/// values in their bound variables.
struct pg_hot {
  std::string id, owner, state, outcome, error, output, executors = "[]";
  long long now = 0, until = 0, run_at = 0, limit = 1, count = 0, notified = 0;
  int exit_code = 0, any_executor = 1;
  soci::indicator exit_code_ind = soci::i_null;
  soci::row row;
  // Each variant is its own prepared statement, so none carries a condition that is
  // constant for it (such as "any executor" or "notify on retry") into its plan.
  std::unique_ptr<soci::statement> claim_any, claim_for, finish_done, finish_retry, renew;
};

/// Only jobs of the claimer's executors (:ex a JSON array of names). ARRAY(…) is computed
/// once per statement (an InitPlan), then tested on each row the claim index yields, in
/// claim order.
inline constexpr const char* pg_executors_only =
    " AND executor = ANY(ARRAY(SELECT json_array_elements_text(CAST(:ex AS json))))";
/// As pg_executors_only, or any executor when :anyex = 1 (statements run once).
inline constexpr const char* pg_executor_filter =
    " AND (:anyex = 1 OR executor = ANY(ARRAY(SELECT json_array_elements_text(CAST(:ex AS json)))))";

/// The claim; `filter` narrows the candidates (executors, queues).
inline std::string pg_claim_sql(const std::string& filter) {
  return std::string(
             "WITH claimed AS (UPDATE jobs SET state = 'processing', attempts = attempts + 1, "
             "attempt_seq = attempt_seq + 1, lease_owner = :owner, lease_expires_at = :until, updated_at = :now "
             "WHERE seq IN (SELECT seq FROM jobs WHERE state IN ('pending', 'failed') AND run_at <= :now") +
         filter +
         " ORDER BY priority DESC, run_at, seq LIMIT :lim FOR UPDATE SKIP LOCKED) "
         "AND state IN ('pending', 'failed') RETURNING " +
         detail::job_columns +
         ", attempt_seq), "
         "opened AS (INSERT INTO attempts(job_id, number, worker, started_at, outcome) "
         "SELECT id, attempt_seq, :owner, :now, 'running' FROM claimed) "
         "SELECT " +
         detail::job_columns + " FROM claimed";
}

inline std::unique_ptr<soci::statement> pg_prepare(soci::session& sql, const std::string& text) {
  auto st = std::make_unique<soci::statement>(sql);
  st->alloc();
  st->prepare(text);
  return st;
}

/// The finish: the job's new state and its attempt's record in one statement (one round
/// trip, atomic). `retry`: the job failed and waits for its next attempt, so the statement
/// also wakes idle hosts (they then sleep until its run_at), as enqueue does: hosts with a
/// live listener poll only as a safety net.
inline std::string pg_finish_sql(bool retry) {
  return std::string("WITH f AS (UPDATE jobs SET state = :s, updated_at = :now, last_error = :err, exit_code = :code, "
                     "lease_owner = '', lease_expires_at = NULL") +
         (retry ? ", run_at = :ra" : "") +
         " WHERE id = :id AND state = 'processing' AND lease_owner = :o RETURNING id), "
         "a AS (UPDATE attempts SET finished_at = :now, outcome = :oc, exit_code = :code, output = :out, error = :err "
         "FROM f WHERE attempts.job_id = f.id AND attempts.outcome = 'running')" +
         (retry ? ", n AS (SELECT CAST(pg_notify(:ch, '') AS TEXT) FROM f) "
                  "SELECT (SELECT COUNT(*) FROM f), (SELECT COUNT(*) FROM n)"
                : " SELECT COUNT(*) FROM f");
}

inline std::unique_ptr<pg_hot> pg_prepare_hot(soci::session& sql, std::string& channel) {
  auto h = std::make_unique<pg_hot>();
  auto bind_claim = [&](soci::statement& st, bool for_executors) {
    st.exchange(soci::use(h->owner, "owner"));
    st.exchange(soci::use(h->until, "until"));
    st.exchange(soci::use(h->now, "now"));
    st.exchange(soci::use(h->limit, "lim"));
    if (for_executors) st.exchange(soci::use(h->executors, "ex"));
    st.exchange(soci::into(h->row));
    st.define_and_bind();
  };
  h->claim_any = pg_prepare(sql, pg_claim_sql(""));
  bind_claim(*h->claim_any, false);
  h->claim_for = pg_prepare(sql, pg_claim_sql(pg_executors_only));
  bind_claim(*h->claim_for, true);
  auto bind_finish = [&](soci::statement& st, bool retry) {
    st.exchange(soci::use(h->state, "s"));
    st.exchange(soci::use(h->now, "now"));
    st.exchange(soci::use(h->error, "err"));
    st.exchange(soci::use(h->exit_code, h->exit_code_ind, "code"));
    if (retry) st.exchange(soci::use(h->run_at, "ra"));
    st.exchange(soci::use(h->id, "id"));
    st.exchange(soci::use(h->owner, "o"));
    st.exchange(soci::use(h->outcome, "oc"));
    st.exchange(soci::use(h->output, "out"));
    if (retry) st.exchange(soci::use(channel, "ch"));
    st.exchange(soci::into(h->count));
    if (retry) st.exchange(soci::into(h->notified));
    st.define_and_bind();
  };
  h->finish_done = pg_prepare(sql, pg_finish_sql(false));
  bind_finish(*h->finish_done, false);
  h->finish_retry = pg_prepare(sql, pg_finish_sql(true));
  bind_finish(*h->finish_retry, true);
  h->renew = pg_prepare(
      sql, "UPDATE jobs SET lease_expires_at = :u WHERE id = :id AND state = 'processing' AND lease_owner = :o");
  h->renew->exchange(soci::use(h->until, "u"));
  h->renew->exchange(soci::use(h->id, "id"));
  h->renew->exchange(soci::use(h->owner, "o"));
  h->renew->define_and_bind();
  return h;
}

}  // namespace queuectl::detail
