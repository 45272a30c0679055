/// @file
/// @brief The state transitions of sqlite_storage other than the hot path (claim, finish, renew, insert).
/// Member definitions of sqlite_storage, included by "queuectl/storage/sqlite_storage.hpp".
#pragma once

#include "queuectl/storage/sqlite_storage.hpp"

namespace queuectl {

inline void sqlite_storage::insert_sequential(std::vector<job>& jobs) {
  locked([&] {
    write_txn tx(*this);  // BEGIN IMMEDIATE: the counter and the inserts are one step
    sql_ << "INSERT OR IGNORE INTO counters(name, value) VALUES('job-ids', 0)";
    std::vector<job> numbered = jobs;
    std::set<std::string> taken;
    for (const job& j : numbered)
      if (!j.id.empty()) taken.insert(j.id);
    for (job& j : numbered) {
      if (!j.id.empty()) continue;
      while (true) {
        long long n = 0;
        sql_ << "UPDATE counters SET value = value + 1 WHERE name = 'job-ids' RETURNING value", soci::into(n);
        j.id = std::string(sequential_id_prefix) + std::to_string(n);
        int used = 0;
        sql_ << "SELECT COUNT(*) FROM jobs WHERE id = :id", soci::use(j.id), soci::into(used);
        if (used == 0 && taken.insert(j.id).second) break;  // else: given by hand, skip it
      }
    }
    insert_rows(numbered);
    tx.commit();
    jobs = std::move(numbered);
  });
}

inline bool sqlite_storage::release(std::string_view id, std::string_view owner, time_point now) {
  return locked([&] {
    write_txn tx(*this);
    const std::string i(id), o(owner);
    const long long t = to_ms(now);
    if (!close_running_attempt(i, t, attempt_outcome::released, "handed back by a stopping worker", o)) return false;
    sql_ << "UPDATE jobs SET state = 'pending', attempts = MAX(0, attempts - 1), updated_at = :t, "
            "lease_owner = '', lease_expires_at = NULL WHERE id = :id",
        soci::use(t), soci::use(i);
    tx.commit();
    return true;
  });
}

inline std::vector<lapsed_lease> sqlite_storage::lapsed_leases(time_point now) {
  return locked([&] {
    std::vector<lapsed_lease> out;
    const long long t = to_ms(now);
    soci::rowset<soci::row> rows =
        (sql_.prepare << detail::sql::lapsed_leases, soci::use(t, "t"));
    for (const auto& r : rows)
      out.push_back({detail::row_text(r, 0), detail::row_text(r, 1), static_cast<int>(detail::row_int(r, 2))});
    return out;
  });
}

inline bool sqlite_storage::recover_lapsed(const lapse_recovery& r) {
  return locked([&] {
    write_txn tx(*this);  // BEGIN IMMEDIATE: the check and the writes are one step
    const long long t = to_ms(r.now);
    int still = 0;
    sql_ << "SELECT COUNT(*) FROM jobs WHERE id = :id AND state = 'processing' AND lease_owner = :o AND "
            "lease_expires_at < :t",
        soci::use(r.id), soci::use(r.owner), soci::use(t), soci::into(still);
    if (still != 1) return false;  // finished or renewed meanwhile
    close_running_attempt(r.id, t, attempt_outcome::lost, r.attempt_error, r.owner);
    // A lost attempt is not counted against max_retries; the lapse is, against max-recoveries.
    if (r.dead)
      sql_ << "UPDATE jobs SET state = 'dead', recoveries = :r, attempts = MAX(0, attempts - 1), last_error = :why, "
              "updated_at = :t, lease_owner = '', lease_expires_at = NULL WHERE id = :id",
          soci::use(r.lapses), soci::use(r.dead_error), soci::use(t), soci::use(r.id);
    else
      sql_ << "UPDATE jobs SET state = 'pending', recoveries = :r, attempts = MAX(0, attempts - 1), run_at = :t, "
              "updated_at = :t2, lease_owner = '', lease_expires_at = NULL WHERE id = :id",
          soci::use(r.lapses), soci::use(t), soci::use(t), soci::use(r.id);
    tx.commit();
    return true;
  });
}

inline bool sqlite_storage::cancel(std::string_view id, time_point now) {
  return locked([&] {
    write_txn tx(*this);
    const std::string i(id);
    const long long t = to_ms(now);
    close_running_attempt(i, t, attempt_outcome::canceled, "canceled");  // when it runs
    soci::statement up = (sql_.prepare << "UPDATE jobs SET state = 'canceled', updated_at = :t, lease_owner = '', "
                                          "lease_expires_at = NULL "
                                          "WHERE id = :id AND state IN ('pending', 'failed', 'processing')",
                          soci::use(t), soci::use(i));
    up.execute(true);
    if (up.get_affected_rows() != 1) return false;
    tx.commit();
    return true;
  });
}

inline bool sqlite_storage::retry_dead(std::string_view id, time_point now) {
  return locked([&] {
    const std::string i(id);
    const long long t = to_ms(now);
    soci::statement up = (sql_.prepare << detail::sql::retry_dead << " AND id = :id", soci::use(t, "t"), soci::use(i, "id"));
    up.execute(true);
    return up.get_affected_rows() == 1;
  });
}

inline std::size_t sqlite_storage::retry_all_dead(time_point now) {
  return locked([&] {
    const long long t = to_ms(now);
    soci::statement up = (sql_.prepare << detail::sql::retry_dead, soci::use(t, "t"));
    up.execute(true);
    return static_cast<std::size_t>(up.get_affected_rows());
  });
}

inline bool sqlite_storage::remove(std::string_view id) {
  return locked([&] {
    write_txn tx(*this);
    const std::string i(id);
    soci::statement del = (sql_.prepare << detail::sql::job_delete, soci::use(i));
    del.execute(true);
    if (del.get_affected_rows() != 1) return false;
    sql_ << detail::sql::attempts_of_job_delete, soci::use(i);
    tx.commit();
    return true;
  });
}

inline bool sqlite_storage::update_job(const job_update& u) {
  return locked([&] {
    detail::job_update_sql q(u, to_ms(u.now), u.set.run_at ? to_ms(*u.set.run_at) : 0);
    soci::statement st(sql_);
    st.alloc();
    st.prepare(q.text);
    q.bind(st);
    st.define_and_bind();
    st.execute(true);
    return st.get_affected_rows() == 1;
  });
}

inline reset_result sqlite_storage::reset_jobs(bool force) {
  return locked([&] {
    reset_result r;
    write_txn tx(*this);  // BEGIN IMMEDIATE: no claim comes between the count and the delete
    long long running = 0;
    sql_ << "SELECT COUNT(*) FROM jobs WHERE state = 'processing'", soci::into(running);
    r.running = static_cast<std::size_t>(running);
    if (running > 0 && !force) {
      r.refused = true;
      return r;  // rolled back: nothing was written
    }
    sql_ << "DELETE FROM attempts";
    soci::statement del = (sql_.prepare << "DELETE FROM jobs");
    del.execute(true);
    r.deleted = static_cast<std::size_t>(del.get_affected_rows());
    tx.commit();
    return r;
  });
}

inline std::size_t sqlite_storage::purge(const purge_filter& f) {
  return locked([&] {
    write_txn tx(*this);
    std::size_t total = 0;
    const long long before = f.updated_before ? to_ms(*f.updated_before) : std::numeric_limits<long long>::max();
    for (job_state s : f.states) {
      if (!is_final(s)) continue;
      const std::string st(to_string(s));
      sql_ << detail::sql::purge_attempts,
          soci::use(st), soci::use(before);
      soci::statement del = (sql_.prepare << detail::sql::purge_jobs, soci::use(st),
                             soci::use(before));
      del.execute(true);
      total += static_cast<std::size_t>(del.get_affected_rows());
    }
    tx.commit();
    return total;
  });
}

inline bool sqlite_storage::close_running_attempt(const std::string& id, long long t, attempt_outcome o, const std::string& why,
                           const std::string& owner) {
  const std::string outcome(to_string(o));
  soci::statement st = (sql_.prepare << "INSERT INTO attempts(job_id, number, worker, started_at, finished_at, outcome, error) "
                                        "SELECT id, attempt_seq, lease_owner, COALESCE(attempt_started_at, updated_at), :t, :o, :e "
                                        "FROM jobs WHERE id = :id AND state = 'processing' AND (:any = 1 OR lease_owner = :w)",
                        soci::use(t), soci::use(outcome), soci::use(why), soci::use(id), soci::use(owner.empty() ? 1 : 0),
                        soci::use(owner));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace queuectl
