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
  int failed = 0, exit_code = 0, any_executor = 1;
  soci::indicator exit_code_ind = soci::i_null;
  soci::row row;
  std::unique_ptr<soci::statement> claim, finish, renew;
};

/// Only jobs of the claimer's executors (:anyex = 1: any; :ex a JSON array of names).
/// ARRAY(…) is computed once per statement (an InitPlan), then tested on each row the
/// claim index yields, in claim order.
inline constexpr const char* pg_executor_filter =
    " AND (:anyex = 1 OR executor = ANY(ARRAY(SELECT json_array_elements_text(CAST(:ex AS json)))))";

inline std::string pg_claim_sql(const std::string& queue_filter) {
  return std::string(
             "WITH claimed AS (UPDATE jobs SET state = 'processing', attempts = attempts + 1, "
             "attempt_seq = attempt_seq + 1, lease_owner = :owner, lease_expires_at = :until, updated_at = :now "
             "WHERE seq IN (SELECT seq FROM jobs WHERE state IN ('pending', 'failed') AND run_at <= :now") +
         pg_executor_filter + queue_filter +
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

inline std::unique_ptr<pg_hot> pg_prepare_hot(soci::session& sql, std::string& channel) {
  auto h = std::make_unique<pg_hot>();
  h->claim = pg_prepare(sql, pg_claim_sql(""));
  h->claim->exchange(soci::use(h->owner, "owner"));
  h->claim->exchange(soci::use(h->until, "until"));
  h->claim->exchange(soci::use(h->now, "now"));
  h->claim->exchange(soci::use(h->limit, "lim"));
  h->claim->exchange(soci::use(h->any_executor, "anyex"));
  h->claim->exchange(soci::use(h->executors, "ex"));
  h->claim->exchange(soci::into(h->row));
  h->claim->define_and_bind();
  // Finishing the job and closing its attempt is one statement: one round trip, atomic.
  // A job that failed and will be retried wakes idle hosts (they then sleep until its
  // run_at), as enqueue does: hosts with a live listener poll only as a safety net.
  h->finish = pg_prepare(
      sql,
      "WITH f AS (UPDATE jobs SET state = :s, updated_at = :now, last_error = :err, exit_code = :code, "
      "lease_owner = '', lease_expires_at = NULL, run_at = CASE WHEN :failed = 1 THEN :ra ELSE run_at END "
      "WHERE id = :id AND state = 'processing' AND lease_owner = :o RETURNING id), "
      "a AS (UPDATE attempts SET finished_at = :now, outcome = :oc, exit_code = :code, output = :out, error = :err "
      "FROM f WHERE attempts.job_id = f.id AND attempts.outcome = 'running'), "
      "n AS (SELECT CAST(pg_notify(:ch, '') AS TEXT) FROM f WHERE :failed = 1) "
      "SELECT (SELECT COUNT(*) FROM f), (SELECT COUNT(*) FROM n)");
  h->finish->exchange(soci::use(h->state, "s"));
  h->finish->exchange(soci::use(h->now, "now"));
  h->finish->exchange(soci::use(h->error, "err"));
  h->finish->exchange(soci::use(h->exit_code, h->exit_code_ind, "code"));
  h->finish->exchange(soci::use(h->failed, "failed"));
  h->finish->exchange(soci::use(h->run_at, "ra"));
  h->finish->exchange(soci::use(h->id, "id"));
  h->finish->exchange(soci::use(h->owner, "o"));
  h->finish->exchange(soci::use(h->outcome, "oc"));
  h->finish->exchange(soci::use(h->output, "out"));
  h->finish->exchange(soci::use(channel, "ch"));
  h->finish->exchange(soci::into(h->count));
  h->finish->exchange(soci::into(h->notified));
  h->finish->define_and_bind();
  h->renew = pg_prepare(
      sql, "UPDATE jobs SET lease_expires_at = :u WHERE id = :id AND state = 'processing' AND lease_owner = :o");
  h->renew->exchange(soci::use(h->until, "u"));
  h->renew->exchange(soci::use(h->id, "id"));
  h->renew->exchange(soci::use(h->owner, "o"));
  h->renew->define_and_bind();
  return h;
}

}  // namespace queuectl::detail
