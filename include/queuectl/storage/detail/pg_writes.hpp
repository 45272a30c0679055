/// @file
/// @brief Writes of postgresql_storage: bulk enqueue (one unnest INSERT per batch), sequential ids, and
/// the state changes outside the hot path (release, lapses, cancel, retry, remove, update,
/// reset, purge).
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

namespace detail {
/// End of the INSERT statement that starts at jobs[from]: at most `max_rows` rows and, past
/// the first row, about `max_bytes` of values, so that the Bind message and each array
/// parameter stay far below the server's 1 GB limit however large the payloads are.
inline std::size_t pg_chunk_end(const std::vector<job>& jobs, std::size_t from, std::size_t max_rows,
                                std::size_t max_bytes) {
  std::size_t to = from, bytes = 0;
  while (to < jobs.size() && to - from < max_rows) {
    const job& j = jobs[to];
    std::size_t row =
        64 + j.id.size() + j.command.size() + j.executor.size() + j.payload.size() + j.queue.size() + j.cwd.size();
    for (const auto& [k, v] : j.env) row += 8 + k.size() + v.size();
    if (to > from && bytes + row > max_bytes) break;
    bytes += row;
    ++to;
  }
  return to;
}
}  // namespace detail

inline void postgresql_storage::insert(const std::vector<job>& jobs) {
  if (jobs.empty()) return;
  run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    for (std::size_t from = 0, to = 0; from < jobs.size(); from = to) {
      to = detail::pg_chunk_end(jobs, from, insert_chunk_rows, insert_chunk_bytes);
      insert_chunk(l.sql, jobs, from, to - from);
    }
    send_notify(l.sql);
    tx.commit();
  });
}

inline void postgresql_storage::insert_sequential(std::vector<job>& jobs) {
  if (jobs.empty()) return;
  run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    std::vector<job> numbered = jobs;
    std::set<std::string> taken;
    for (const job& j : numbered)
      if (!j.id.empty()) taken.insert(j.id);
    l.sql << "INSERT INTO counters(name, value) VALUES('job-ids', 0) ON CONFLICT (name) DO NOTHING";
    std::vector<job*> unnumbered;
    for (job& j : numbered)
      if (j.id.empty()) unnumbered.push_back(&j);
    // The numbers are taken in blocks of the count still missing, one round trip for the
    // block and one for the ids of it already in use (given by hand: skipped, as is a
    // number the batch names itself). The counter ends at the last number given. The
    // row lock taken here is held until commit: concurrent inserters queue up on it, so
    // no two get the same number.
    for (std::size_t given = 0; given < unnumbered.size();) {
      const long long need = static_cast<long long>(unnumbered.size() - given);
      long long last = 0;
      l.sql << "UPDATE counters SET value = value + :n WHERE name = 'job-ids' RETURNING value", soci::use(need),
          soci::into(last);
      std::vector<std::string> candidates;
      detail::pg_array ids;
      for (long long n = last - need + 1; n <= last; ++n) {
        candidates.push_back(std::string(sequential_id_prefix) + std::to_string(n));
        ids.text(candidates.back());
      }
      const std::string id_array = ids.str();
      std::set<std::string> used;
      detail::select_rows(
          l.sql, "SELECT id FROM jobs WHERE id = ANY(CAST(:ids AS text[]))",
          [&](soci::statement& st) { st.exchange(soci::use(id_array, "ids")); },
          [&](const soci::row& r) { used.insert(detail::row_text(r, 0)); });
      for (std::string& id : candidates)
        if (!used.count(id) && taken.insert(id).second) unnumbered[given++]->id = std::move(id);
    }
    for (std::size_t from = 0, to = 0; from < numbered.size(); from = to) {
      to = detail::pg_chunk_end(numbered, from, insert_chunk_rows, insert_chunk_bytes);
      insert_chunk(l.sql, numbered, from, to - from);
    }
    send_notify(l.sql);
    tx.commit();
    jobs = std::move(numbered);
  });
}

inline bool postgresql_storage::release(std::string_view id, std::string_view owner, time_point now) {
  return run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    const std::string i(id), o(owner);
    const long long t = db(now);
    soci::statement up(l.sql);
    detail::pg_one_time(
        up,
        "UPDATE jobs SET state = 'pending', attempts = GREATEST(0, attempts - 1), updated_at = :t, "
        "lease_owner = '', lease_expires_at = NULL WHERE id = :id AND state = 'processing' AND lease_owner = :o",
        soci::use(t, "t"), soci::use(i, "id"), soci::use(o, "o"));
    up.execute(true);
    if (up.get_affected_rows() != 1) return false;
    close_running_attempt(l.sql, i, t, attempt_outcome::released, "handed back by a stopping worker");
    send_notify(l.sql);
    tx.commit();
    return true;
  });
}

inline std::vector<lapsed_lease> postgresql_storage::lapsed_leases(time_point now) {
  return run([&](leased& l) {
    std::vector<lapsed_lease> out;
    const long long t = db(now);
    detail::select_rows(
        l.sql, detail::sql::lapsed_leases,
        [&](soci::statement& st) { st.exchange(soci::use(t, "t")); },
        [&](const soci::row& r) {
          out.push_back({detail::row_text(r, 0), detail::row_text(r, 1), static_cast<int>(detail::row_int(r, 2))});
        });
    return out;
  });
}

inline bool postgresql_storage::recover_lapsed(const lapse_recovery& r) {
  return run([&](leased& l) {
    const long long t = db(r.now);
    detail::pg_txn tx(l.sql);
    // SKIP LOCKED: a job being finished or renewed right now is not touched; the lapse
    // condition is checked on the row's latest version once it is locked.
    long long still = 0;
    {
      soci::statement st(l.sql);
      detail::pg_one_time(st,
                          "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE id = :id AND state = 'processing' AND "
                          "lease_owner = :o AND lease_expires_at < :t FOR UPDATE SKIP LOCKED) x",
                          soci::use(r.id, "id"), soci::use(r.owner, "o"), soci::use(t, "t"), soci::into(still));
      st.execute(true);
    }
    if (still != 1) return false;
    close_running_attempt(l.sql, r.id, t, attempt_outcome::lost, r.attempt_error);
    // A lost attempt is not counted against max_retries; the lapse is, against max-recoveries.
    soci::statement up(l.sql);
    if (r.dead)
      detail::pg_one_time(up,
                          "UPDATE jobs SET state = 'dead', recoveries = :r, attempts = GREATEST(0, attempts - 1), "
                          "last_error = :why, updated_at = :t, lease_owner = '', lease_expires_at = NULL WHERE id = :id",
                          soci::use(r.lapses, "r"), soci::use(r.dead_error, "why"), soci::use(t, "t"),
                          soci::use(r.id, "id"));
    else
      detail::pg_one_time(up,
                          "UPDATE jobs SET state = 'pending', recoveries = :r, attempts = GREATEST(0, attempts - 1), "
                          "run_at = :t, updated_at = :t2, lease_owner = '', lease_expires_at = NULL WHERE id = :id",
                          soci::use(r.lapses, "r"), soci::use(t, "t"), soci::use(t, "t2"), soci::use(r.id, "id"));
    up.execute(true);
    if (!r.dead) send_notify(l.sql);
    tx.commit();
    return true;
  });
}

inline bool postgresql_storage::cancel(std::string_view id, time_point now) {
  return run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    const std::string i(id);
    const long long t = db(now);
    soci::statement up(l.sql);
    detail::pg_one_time(
        up,
        "UPDATE jobs SET state = 'canceled', updated_at = :t, lease_owner = '', lease_expires_at = NULL "
        "WHERE id = :id AND state IN ('pending', 'failed', 'processing')",
        soci::use(t, "t"), soci::use(i, "id"));
    up.execute(true);
    if (up.get_affected_rows() != 1) return false;
    close_running_attempt(l.sql, i, t, attempt_outcome::canceled, "canceled");
    send_notify(l.sql);  // the host running it stops the attempt on this wake-up
    tx.commit();
    return true;
  });
}

inline bool postgresql_storage::retry_dead(std::string_view id, time_point now) {
  return run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    const std::string i(id);
    const long long t = db(now);
    soci::statement up(l.sql);
    detail::pg_one_time(up, std::string(detail::sql::retry_dead) + " AND id = :id", soci::use(t, "t"),
                        soci::use(i, "id"));
    up.execute(true);
    if (up.get_affected_rows() != 1) return false;
    send_notify(l.sql);
    tx.commit();
    return true;
  });
}

inline std::size_t postgresql_storage::retry_all_dead(time_point now) {
  return run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    const long long t = db(now);
    soci::statement up(l.sql);
    detail::pg_one_time(up, detail::sql::retry_dead, soci::use(t, "t"));
    up.execute(true);
    const auto n = static_cast<std::size_t>(up.get_affected_rows());
    if (n) send_notify(l.sql);
    tx.commit();
    return n;
  });
}

inline bool postgresql_storage::remove(std::string_view id) {
  return run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    const std::string i(id);
    soci::statement del(l.sql);
    detail::pg_one_time(del, detail::sql::job_delete, soci::use(i, "id"));
    del.execute(true);
    if (del.get_affected_rows() != 1) return false;
    l.sql << detail::sql::attempts_of_job_delete, soci::use(i);
    tx.commit();
    return true;
  });
}

inline bool postgresql_storage::update_job(const job_update& u) {
  return run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    detail::job_update_sql q(u, db(u.now), u.set.run_at ? db(*u.set.run_at) : 0);
    soci::statement st(l.sql);
    st.alloc();
    st.prepare(q.text, soci::details::st_one_time_query);
    q.bind(st);
    st.define_and_bind();
    st.execute(true);
    if (st.get_affected_rows() != 1) return false;
    if (u.set.state == job_state::pending || u.set.run_at) send_notify(l.sql);  // may be due now
    tx.commit();
    return true;
  });
}

inline reset_result postgresql_storage::reset_jobs(bool force) {
  return run([&](leased& l) {
    reset_result r;
    detail::pg_txn tx(l.sql);
    // Writers wait for this lock (readers do not): no claim commits between the count
    // and the delete, so a job claimed meanwhile is never deleted without force.
    l.sql << "LOCK TABLE jobs IN EXCLUSIVE MODE";
    long long running = 0;
    l.sql << "SELECT COUNT(*) FROM jobs WHERE state = 'processing'", soci::into(running);
    r.running = static_cast<std::size_t>(running);
    if (running > 0 && !force) {
      r.refused = true;
      return r;  // rolled back: nothing was written
    }
    l.sql << "DELETE FROM attempts";
    soci::statement del(l.sql);
    detail::pg_one_time(del, "DELETE FROM jobs");
    del.execute(true);
    r.deleted = static_cast<std::size_t>(del.get_affected_rows());
    tx.commit();
    return r;
  });
}

inline std::size_t postgresql_storage::purge(const purge_filter& f) {
  return run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    std::size_t total = 0;
    const long long before = f.updated_before ? db(*f.updated_before) : std::numeric_limits<long long>::max();
    for (job_state s : f.states) {
      if (!is_final(s)) continue;
      const std::string st(to_string(s));
      l.sql << detail::sql::purge_attempts,
          soci::use(st), soci::use(before);
      soci::statement del(l.sql);
      detail::pg_one_time(del, detail::sql::purge_jobs, soci::use(st, "s"),
                          soci::use(before, "b"));
      del.execute(true);
      total += static_cast<std::size_t>(del.get_affected_rows());
    }
    tx.commit();
    return total;
  });
}

inline void postgresql_storage::close_running_attempt(soci::session& sql, const std::string& id, long long t,
                                                      attempt_outcome o, const std::string& why) {
  const std::string outcome(to_string(o));
  sql << "UPDATE attempts SET finished_at = :t, outcome = :o, error = :e WHERE job_id = :id AND outcome = 'running'",
      soci::use(t), soci::use(outcome), soci::use(why), soci::use(id);
}

/// Inserts jobs[from, from + n) in one statement: each column is one array parameter and
/// `unnest` turns the arrays back into rows, in batch order (WITH ORDINALITY), so the
/// seq numbers follow the batch. Throws the duplicate_id conflict naming the first id
/// that was not stored; the caller's transaction then rolls the whole batch back.
inline void postgresql_storage::insert_chunk(soci::session& sql, const std::vector<job>& jobs, std::size_t from,
                                             std::size_t n) {
  enum : std::size_t {
    c_id,
    c_command,
    c_executor,
    c_payload,
    c_queue,
    c_state,
    c_attempts,
    c_recoveries,
    c_max_retries,
    c_priority,
    c_run_at,
    c_timeout,
    c_env,
    c_cwd,
    c_created_at,
    c_updated_at,
    columns
  };
  std::vector<detail::pg_array> cols(columns);
  for (std::size_t k = 0; k < n; ++k) {
    const job& j = jobs[from + k];
    cols[c_id].text(j.id);
    cols[c_command].text(j.command);
    cols[c_executor].text(j.executor);
    cols[c_payload].text(j.payload);
    cols[c_queue].text(j.queue);
    cols[c_state].text(to_string(j.state));
    cols[c_attempts].integer(j.attempts);
    cols[c_recoveries].integer(j.recoveries);
    cols[c_max_retries].integer(j.max_retries);
    cols[c_priority].integer(j.priority);
    cols[c_run_at].integer(db(j.run_at));
    cols[c_timeout].real(j.timeout);
    cols[c_env].text(detail::env_to_json(j.env));
    cols[c_cwd].text(j.cwd);
    cols[c_created_at].integer(db(j.created_at));
    cols[c_updated_at].integer(db(j.updated_at));
  }
  std::vector<std::string> arrays;
  arrays.reserve(columns);
  for (const auto& c : cols) arrays.push_back(c.str());
  static const char* const types[columns] = {"text",    "text",    "text",    "text",    "text",   "text",
                                             "integer", "integer", "integer", "integer", "bigint", "double precision",
                                             "text",    "text",    "bigint",  "bigint"};
  std::string text =
      "INSERT INTO jobs(id, command, executor, payload, queue, state, attempts, recoveries, max_retries, priority, "
      "run_at, timeout, env, cwd, created_at, updated_at) "
      "SELECT c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16 FROM unnest(";
  for (std::size_t c = 0; c < columns; ++c)
    text += std::string(c ? ", " : "") + "CAST(:a" + std::to_string(c) + " AS " + types[c] + "[])";
  text +=
      ") WITH ORDINALITY AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, ord) "
      "ORDER BY ord ON CONFLICT (id) DO NOTHING RETURNING id";
  soci::statement st(sql);
  st.alloc();
  st.prepare(text, soci::details::st_one_time_query);
  for (std::size_t c = 0; c < columns; ++c) st.exchange(soci::use(arrays[c], "a" + std::to_string(c)));
  soci::row r;
  st.exchange(soci::into(r));
  st.define_and_bind();
  std::set<std::string> stored;
  if (st.execute(true)) {
    do stored.insert(detail::row_text(r, 0));
    while (st.fetch());
  }
  if (stored.size() == n) return;
  // Some row was skipped: its id exists already (or twice in the batch). The caller's
  // transaction rolls back, so nothing of the batch is stored.
  std::set<std::string> seen;
  for (std::size_t k = 0; k < n; ++k) {
    const std::string& id = jobs[from + k].id;
    if (!stored.count(id) || !seen.insert(id).second)
      throw error(error_kind::conflict, "queuectl.storage.duplicate_id", "job id '" + id + "' already exists");
  }
  throw error(error_kind::conflict, "queuectl.storage.duplicate_id", "a job id of the batch already exists");
}

}  // namespace queuectl
