/// @file
/// @brief Storage in one SQLite file through SOCI, shared safely by threads and processes.
#pragma once

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <limits>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/error.hpp"
#include "queuectl/storage/detail/job_update_sql.hpp"
#include "queuectl/storage/detail/soci_rows.hpp"
#include "queuectl/storage/detail/soci_sql.hpp"
#include "queuectl/storage/detail/sqlite_file.hpp"
#include "queuectl/storage/detail/sqlite_schema.hpp"
#include "queuectl/storage/detail/sqlite_statement.hpp"

namespace queuectl {

/// @brief Settings of sqlite_storage.
struct sqlite_options {
  int busy_timeout_ms = 10000;         ///< how long a writer waits for another process's lock
  std::string synchronous = "NORMAL";  ///< with WAL: durable across process crashes, fast
  /// Open for reading only (list, show, status, logs, metrics on a file or directory this
  /// user cannot write): no file is created, no pragma or migration writes. When SQLite
  /// cannot create the WAL index (-shm) beside the file, the file is read as an immutable
  /// snapshot.
  bool read_only = false;
  /// Failed opens of a file that is not a database (corrupt, or something else) before the
  /// error is final; busy locks do not count (they wait up to busy_timeout_ms).
  int corrupt_attempts = 3;
};

/// @brief Keeps the queue in one SQLite file (WAL mode).
///
/// Claims are one `UPDATE … RETURNING` inside `BEGIN IMMEDIATE`, served by a partial index
/// over claimable jobs only, so no two workers — threads, processes — get the same job and
/// finished history does not slow claims down. One object holds one connection behind a
/// mutex: share it between threads, or open one per thread for more parallel reads.
///
/// Attempt records are numbered per job by an ever-increasing counter (`attempt_seq`):
/// a fresh job's attempts read 1, 2, 3; after a lapsed lease or a retry from the dead
/// letter queue, numbering continues, so no history is overwritten.
///
/// The running attempt lives on the job row (number, worker = lease owner, start time);
/// its record is written once, when it ends. A claim and a finish are then one short
/// transaction each that touches one job row, the claim index and at most one attempt
/// row (docs/architecture.md, "SQLite hot path").
class sqlite_storage {
 public:
  static constexpr int schema_version = sqlite_schema_version;

  explicit sqlite_storage(std::string path, sqlite_options opts = {}) : path_(std::move(path)), opts_(std::move(opts)) {
    if (opts_.read_only) {
      detail::sqlite_check_regular_file(path_);
      open_read_only();
      return;
    }
    detail::sqlite_create_private_file(path_);
    wrap([&] {
      // A file that is not a database is reported after a few attempts rather than retried
      // for ever by a host (a busy lock is not such a failure: it waits in busy_timeout).
      for (int attempt = 1;; ++attempt) {
        try {
          sql_.open(soci::sqlite3, "db=" + detail::sqlite_quoted(path_) + " timeout=" + std::to_string(std::max(1, opts_.busy_timeout_ms / 1000)));
          sql_ << "PRAGMA busy_timeout=" << opts_.busy_timeout_ms;
          exec_retrying("PRAGMA journal_mode=WAL");
          const std::string sync = opts_.synchronous == "FULL" ? "FULL" : opts_.synchronous == "OFF" ? "OFF" : "NORMAL";
          sql_ << "PRAGMA synchronous=" + sync;
          migrate();
          return;
        } catch (const soci::soci_error& e) {
          if (!detail::sqlite_is_not_a_database(e.what())) throw;
          sql_.close();
          if (attempt >= std::max(1, opts_.corrupt_attempts))
            throw error(error_kind::storage, "queuectl.storage.corrupt",
                        path_ + " is not a usable queuectl database (" + std::string(e.what()) + ") after " +
                            std::to_string(attempt) + " attempts: restore it from a backup or move it away");
          std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
        }
      }
    });
  }

  sqlite_storage(const sqlite_storage&) = delete;
  sqlite_storage& operator=(const sqlite_storage&) = delete;

  const std::string& path() const noexcept { return path_; }

  void insert(const std::vector<job>& jobs) {
    locked([&] {
      write_txn tx(*this);
      insert_rows(jobs);
      tx.commit();
    });
  }

  void insert_sequential(std::vector<job>& jobs) {
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

  std::vector<job> claim(const claim_request& req) {
    if (req.executors && req.executors->empty()) return {};  // runs nothing: takes nothing
    return locked([&] {
      std::vector<job> out;
      const long long t = to_ms(req.now), until = to_ms(req.lease_until);
      const int limit = static_cast<int>(std::min<std::size_t>(req.max_jobs, 100000));
      write_txn tx(*this);
      if (req.queues.empty()) {
        hot& h = hot_statements();
        // Two statements, so that the common claim (any executor) reads no json_each.
        detail::sqlite_statement& st = req.executors ? *h.claim_for : *h.claim_any;
        const std::string executors = req.executors ? detail::names_to_json(*req.executors) : std::string();
        st.bind(":owner", req.owner).bind(":until", until).bind(":now", t).bind(":lim", limit);
        if (req.executors) st.bind(":ex", executors);
        detail::sqlite_statement::run r(st);
        while (r.step()) out.push_back(detail::job_from_columns(r));
      } else {  // rare: prepared per call, one placeholder per queue
        std::string in;
        for (std::size_t i = 0; i < req.queues.size(); ++i) in += (i ? ", :q" : ":q") + std::to_string(i);
        const int any_executor = req.executors ? 0 : 1;
        const std::string executors = req.executors ? detail::names_to_json(*req.executors) : "[]";
        soci::row r;
        soci::statement st(sql_);
        st.alloc();
        st.prepare(claim_sql(std::string(executor_filter) + " AND queue IN (" + in + ")"));
        st.exchange(soci::use(req.owner, "owner"));
        st.exchange(soci::use(until, "until"));
        st.exchange(soci::use(t, "now"));
        st.exchange(soci::use(limit, "lim"));
        st.exchange(soci::use(any_executor, "anyex"));
        st.exchange(soci::use(executors, "ex"));
        for (std::size_t i = 0; i < req.queues.size(); ++i) st.exchange(soci::use(req.queues[i], "q" + std::to_string(i)));
        st.exchange(soci::into(r));
        st.define_and_bind();
        if (st.execute(true)) {
          do out.push_back(detail::job_from_row(r));
          while (st.fetch());
        }
      }
      tx.commit();
      std::sort(out.begin(), out.end(), [](const job& a, const job& b) {
        return a.priority != b.priority ? a.priority > b.priority : a.run_at != b.run_at ? a.run_at < b.run_at : a.seq < b.seq;
      });
      return out;
    });
  }

  std::optional<time_point> next_due(const claim_request& req) {
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

  bool renew_lease(std::string_view id, std::string_view owner, time_point until) {
    return locked([&] {
      detail::sqlite_statement& st = *hot_statements().renew;
      st.bind(":u", to_ms(until)).bind(":id", id).bind(":o", owner);
      return detail::sqlite_statement::run(st).execute() == 1;
    });
  }

  bool finish(const finish_request& f) {
    return locked([&] {
      write_txn tx(*this);
      hot& h = hot_statements();
      const long long t = to_ms(f.now);
      const std::string_view state = to_string(f.state), outcome = to_string(f.outcome);
      long long number = 0, started = 0;
      {
        detail::sqlite_statement& st = *h.finish;
        st.bind(":s", state).bind(":now", t).bind(":err", f.last_error).bind(":code", f.exit_code);
        st.bind(":failed", f.state == job_state::failed ? 1 : 0).bind(":ra", to_ms(f.run_at)).bind(":id", f.id).bind(":o", f.owner);
        detail::sqlite_statement::run r(st);
        if (!r.step()) return false;  // not processing, or not leased to f.owner (any more)
        number = r.integer(0);
        started = r.integer(1);
        while (r.step()) {
        }
      }
      detail::sqlite_statement& rec = *h.record_attempt;
      rec.bind(":id", f.id).bind(":n", number).bind(":w", f.owner).bind(":st", started).bind(":t", t);
      rec.bind(":o", outcome).bind(":c", f.exit_code).bind(":out", f.output).bind(":e", f.last_error);
      detail::sqlite_statement::run(rec).execute();
      tx.commit();
      return true;
    });
  }

  bool release(std::string_view id, std::string_view owner, time_point now) {
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

  /// A read: no write lock is taken when nothing has lapsed (the usual case).
  std::vector<lapsed_lease> lapsed_leases(time_point now) {
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

  bool recover_lapsed(const lapse_recovery& r) {
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

  bool cancel(std::string_view id, time_point now) {
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

  bool retry_dead(std::string_view id, time_point now) {
    return locked([&] {
      const std::string i(id);
      const long long t = to_ms(now);
      soci::statement up = (sql_.prepare << detail::sql::retry_dead << " AND id = :id", soci::use(t, "t"), soci::use(i, "id"));
      up.execute(true);
      return up.get_affected_rows() == 1;
    });
  }

  std::size_t retry_all_dead(time_point now) {
    return locked([&] {
      const long long t = to_ms(now);
      soci::statement up = (sql_.prepare << detail::sql::retry_dead, soci::use(t, "t"));
      up.execute(true);
      return static_cast<std::size_t>(up.get_affected_rows());
    });
  }

  bool remove(std::string_view id) {
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

  bool update_job(const job_update& u) {
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

  reset_result reset_jobs(bool force) {
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

  std::optional<job> get(std::string_view id) {
    return locked([&]() -> std::optional<job> {
      const std::string i(id);
      soci::rowset<soci::row> rows = (sql_.prepare << "SELECT " << detail::job_columns << " FROM jobs WHERE id = :id", soci::use(i));
      for (const auto& r : rows) return detail::job_from_row(r);
      return std::nullopt;
    });
  }

  std::vector<job> list(const list_filter& f) {
    return locked([&] {
      std::vector<job> out;
      std::string state = f.state ? std::string(to_string(*f.state)) : std::string();
      std::string queue = f.queue.value_or("");
      const int has_state = f.state ? 1 : 0, has_queue = f.queue ? 1 : 0;
      const long long limit = f.limit == 0 ? -1 : static_cast<long long>(f.limit);
      const long long offset = static_cast<long long>(f.offset);
      const std::string sql = std::string("SELECT ") + detail::job_columns +
                              " FROM jobs WHERE (:hs = 0 OR state = :s) AND (:hq = 0 OR queue = :q) ORDER BY seq " +
                              (f.newest_first ? "DESC" : "ASC") + " LIMIT :lim OFFSET :off";
      soci::rowset<soci::row> rows = (sql_.prepare << sql, soci::use(has_state), soci::use(state), soci::use(has_queue),
                                      soci::use(queue), soci::use(limit), soci::use(offset));
      for (const auto& r : rows) out.push_back(detail::job_from_row(r));
      return out;
    });
  }

  state_counts counts() {
    return locked([&] {
      state_counts c{};
      soci::rowset<soci::row> rows = (sql_.prepare << detail::sql::counts_by_state);
      for (const auto& r : rows)
        if (auto s = parse_job_state(detail::row_text(r, 0))) at(c, *s) = static_cast<std::size_t>(detail::row_int(r, 1));
      return c;
    });
  }

  std::map<std::string, state_counts> counts_by_queue() {
    return locked([&] {
      std::map<std::string, state_counts> out;
      soci::rowset<soci::row> rows = (sql_.prepare << detail::sql::counts_by_queue);
      for (const auto& r : rows)
        if (auto s = parse_job_state(detail::row_text(r, 1)))
          at(out[detail::row_text(r, 0)], *s) = static_cast<std::size_t>(detail::row_int(r, 2));
      return out;
    });
  }

  std::map<std::string, std::size_t> waiting_by_executor() {
    return locked([&] {
      std::map<std::string, std::size_t> out;
      soci::rowset<soci::row> rows = (sql_.prepare << "SELECT executor, COUNT(*) FROM jobs INDEXED BY jobs_claim "
                                                      "WHERE state IN ('pending', 'failed') GROUP BY executor");
      for (const auto& r : rows) out[detail::row_text(r, 0)] = static_cast<std::size_t>(detail::row_int(r, 1));
      return out;
    });
  }

  std::vector<attempt_record> attempts(std::string_view id) {
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

  std::size_t purge(const purge_filter& f) {
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

  std::optional<std::string> get_config(std::string_view key) {
    return locked([&]() -> std::optional<std::string> {
      const std::string k(key);
      std::string v;
      soci::indicator ind = soci::i_null;
      sql_ << detail::sql::config_get, soci::use(k), soci::into(v, ind);
      if (!sql_.got_data() || ind == soci::i_null) return std::nullopt;
      return v;
    });
  }
  void set_config(std::string_view key, std::string_view value) {
    locked([&] {
      const std::string k(key), v(value);
      sql_ << detail::sql::config_put,
          soci::use(k), soci::use(v);
    });
  }
  void set_config_entries(const std::map<std::string, std::string>& entries) {
    if (entries.empty()) return;
    locked([&] {
      write_txn tx(*this);
      for (const auto& [key, value] : entries)
        sql_ << detail::sql::config_put,
            soci::use(key), soci::use(value);
      tx.commit();
    });
  }
  std::map<std::string, std::string> config_entries() {
    return locked([&] {
      std::map<std::string, std::string> out;
      soci::rowset<soci::row> rows = (sql_.prepare << detail::sql::config_all);
      for (const auto& r : rows) out.emplace(detail::row_text(r, 0), detail::row_text(r, 1));
      return out;
    });
  }
  void reset_config() {
    locked([&] { sql_ << detail::sql::config_clear; });
  }

  void upsert_worker(const worker_info& w) {
    locked([&] {
      const long long pid = w.pid, started = to_ms(w.started_at), beat = to_ms(w.heartbeat_at);
      const int slots = w.slots;
      const std::string executors = w.executors ? detail::names_to_json(*w.executors) : std::string();
      soci::indicator executors_ind = w.executors ? soci::i_ok : soci::i_null;
      sql_ << detail::sql::worker_put,
          soci::use(w.id), soci::use(w.hostname), soci::use(pid), soci::use(slots), soci::use(started), soci::use(beat),
          soci::use(executors, executors_ind);
    });
  }
  void remove_worker(std::string_view id) {
    locked([&] {
      const std::string i(id);
      sql_ << detail::sql::worker_delete, soci::use(i);
    });
  }
  std::vector<worker_info> workers() {
    return locked([&] {
      std::vector<worker_info> out;
      soci::rowset<soci::row> rows =
          (sql_.prepare << detail::sql::workers_all);
      for (const auto& r : rows) out.push_back(detail::worker_from_row(r, from_ms));
      return out;
    });
  }

  attempt_stats stats(std::optional<time_point> since) {
    return locked([&] {
      attempt_stats s;
      const long long from = since ? to_ms(*since) : std::numeric_limits<long long>::min();
      std::vector<double> durations;
      soci::rowset<soci::row> rows =
          (sql_.prepare << "SELECT outcome, started_at, finished_at FROM attempts WHERE finished_at IS NOT NULL "
                           "AND finished_at >= :f AND outcome IN ('succeeded', 'failed', 'timed_out') ORDER BY finished_at",
           soci::use(from));
      for (const auto& r : rows) {
        const long long st = detail::row_int(r, 1), fin = detail::row_int(r, 2);
        ++s.finished;
        if (detail::row_text(r, 0) == "succeeded") ++s.succeeded;
        else ++s.failed;
        durations.push_back(static_cast<double>(fin - st));
        if (!s.first_started || from_ms(st) < *s.first_started) s.first_started = from_ms(st);
        s.last_finished = from_ms(fin);
      }
      summarize_durations(s, std::move(durations));
      return s;
    });
  }

  /// The claim query's plan, for tests and diagnostics (`EXPLAIN QUERY PLAN`), for a
  /// claimer of the executors `executors` (nullopt: any).
  std::vector<std::string> claim_query_plan(const std::optional<std::vector<std::string>>& executors = std::nullopt) {
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

 private:
  /// BEGIN IMMEDIATE … COMMIT, rolled back if not committed (e.g. on a throw).
  struct write_txn {
    explicit write_txn(sqlite_storage& s) : s_(s) { s_.begin_immediate(); }
    void commit() {
      detail::sqlite_statement::run(*s_.txn_statements().commit).execute();
      done_ = true;
    }
    ~write_txn() {
      if (!done_) {
        try {
          s_.sql_ << "ROLLBACK";
        } catch (...) {
        }
      }
    }
    sqlite_storage& s_;
    bool done_ = false;
  };

  template <class F>
  std::invoke_result_t<F&> locked(F&& f) {
    std::lock_guard lock(mu_);
    return detail::wrap_soci("sqlite", std::forward<F>(f));
  }
  template <class F>
  std::invoke_result_t<F&> wrap(F&& f) {
    return detail::wrap_soci("sqlite", std::forward<F>(f));
  }

  /// Statements of the hot paths (claim, finish, renew, transactions), prepared once on
  /// the raw handle and re-run with new bindings.
  struct hot {
    std::unique_ptr<detail::sqlite_statement> begin, commit, claim_any, claim_for, finish, record_attempt, renew;
  };

  /// Only jobs of the claimer's executors (:anyex = 1: any; :ex a JSON array of names).
  /// The claim index ends with `executor`, so the test reads the index entry (SQLite
  /// defers the table seek), however many jobs of other executors wait ahead.
  static constexpr const char* executor_filter =
      " AND (:anyex = 1 OR executor IN (SELECT value FROM json_each(:ex)))";

  /// The claim: due jobs in claim order, leased and started in one UPDATE … RETURNING.
  /// `filter` narrows the candidates (executors, queues).
  static std::string claim_sql(const std::string& filter) {
    return std::string(
               "UPDATE jobs SET state = 'processing', attempts = attempts + 1, attempt_seq = attempt_seq + 1, "
               "lease_owner = :owner, lease_expires_at = :until, updated_at = :now, attempt_started_at = :now "
               "WHERE seq IN (SELECT seq FROM jobs INDEXED BY jobs_claim WHERE state IN ('pending', 'failed') "
               "AND run_at <= :now") +
           filter + " ORDER BY priority DESC, run_at, seq LIMIT :lim) RETURNING " + detail::job_columns;
  }

  std::unique_ptr<detail::sqlite_statement> prepare(const std::string& sql) {
    return std::make_unique<detail::sqlite_statement>(sql_, sql);
  }

  /// BEGIN IMMEDIATE and COMMIT, usable before the schema exists (by migrate()).
  hot& txn_statements() {
    if (!hot_) hot_ = std::make_unique<hot>();
    if (!hot_->begin) {
      hot_->begin = prepare("BEGIN IMMEDIATE");
      hot_->commit = prepare("COMMIT");
    }
    return *hot_;
  }

  hot& hot_statements() {
    hot* h = &txn_statements();
    if (h->claim_any) return *h;
    h->claim_any = prepare(claim_sql(""));
    h->claim_for = prepare(claim_sql(" AND executor IN (SELECT value FROM json_each(:ex))"));
    // attempt_started_at is not cleared: it stays the latest attempt's start, which
    // the record needs (RETURNING yields the updated row).
    h->finish = prepare(
        "UPDATE jobs SET state = :s, updated_at = :now, last_error = :err, exit_code = :code, lease_owner = '', "
        "lease_expires_at = NULL, run_at = CASE WHEN :failed = 1 THEN :ra ELSE run_at END "
        "WHERE id = :id AND state = 'processing' AND lease_owner = :o "
        "RETURNING attempt_seq, COALESCE(attempt_started_at, :now)");
    h->record_attempt = prepare(
        "INSERT INTO attempts(job_id, number, worker, started_at, finished_at, outcome, exit_code, output, error) "
        "VALUES(:id, :n, :w, :st, :t, :o, :c, :out, :e)");
    h->renew = prepare("UPDATE jobs SET lease_expires_at = :u WHERE id = :id AND state = 'processing' AND lease_owner = :o");
    return *h;
  }

  /// BEGIN IMMEDIATE can report SQLITE_BUSY at once (another process is checkpointing or
  /// creating the schema) instead of waiting in the busy handler: retry until the timeout.
  void begin_immediate() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.busy_timeout_ms);
    while (true) {
      try {
        detail::sqlite_statement::run(*txn_statements().begin).execute();
        return;
      } catch (const soci::soci_error& e) {
        const std::string what = e.what();
        const bool busy = what.find("locked") != std::string::npos || what.find("busy") != std::string::npos;
        if (!busy || std::chrono::steady_clock::now() >= deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
  }

  /// SQLite's busy handler covers most lock waits; BEGIN IMMEDIATE and journal-mode
  /// changes can still report SQLITE_BUSY at once (e.g. during another process's
  /// checkpoint or schema creation), so those retry until the busy timeout.
  void exec_retrying(const std::string& stmt) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.busy_timeout_ms);
    while (true) {
      try {
        sql_ << stmt;
        return;
      } catch (const soci::soci_error& e) {
        const std::string what = e.what();
        const bool busy = what.find("locked") != std::string::npos || what.find("busy") != std::string::npos;
        if (!busy || std::chrono::steady_clock::now() >= deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
  }

  /// The rows of insert(), inside the caller's write transaction.
  void insert_rows(const std::vector<job>& jobs) {
    {
      std::string id, command, executor, payload, queue, env, cwd, state;
      int attempts = 0, recoveries = 0, max_retries = 0, priority = 0;
      long long run_at = 0, created = 0, updated = 0;
      double timeout = 0;
      soci::statement ins = (sql_.prepare << "INSERT OR IGNORE INTO jobs(id, command, executor, payload, queue, state, attempts, "
                                             "recoveries, max_retries, priority, run_at, timeout, env, cwd, created_at, updated_at) "
                                             "VALUES(:id, :c, :e, :p, :q, :s, :a, :r, :m, :pr, :ra, :t, :env, :cwd, :ca, :ua)",
                             soci::use(id), soci::use(command), soci::use(executor), soci::use(payload), soci::use(queue),
                             soci::use(state), soci::use(attempts), soci::use(recoveries), soci::use(max_retries),
                             soci::use(priority), soci::use(run_at), soci::use(timeout), soci::use(env), soci::use(cwd),
                             soci::use(created), soci::use(updated));
      for (const job& j : jobs) {
        id = j.id;
        command = j.command;
        executor = j.executor;
        payload = j.payload;
        queue = j.queue;
        state = std::string(to_string(j.state));
        attempts = j.attempts;
        recoveries = j.recoveries;
        max_retries = j.max_retries;
        priority = j.priority;
        run_at = to_ms(j.run_at);
        timeout = j.timeout;
        env = detail::env_to_json(j.env);
        cwd = j.cwd;
        created = to_ms(j.created_at);
        updated = to_ms(j.updated_at);
        ins.execute(true);
        if (ins.get_affected_rows() != 1)  // rolled back by tx: nothing of the batch is stored
          throw error(error_kind::conflict, "queuectl.storage.duplicate_id", "job id '" + j.id + "' already exists");
      }
    }
  }

  /// Writes the record of job `id`'s running attempt (read off its row: number, worker,
  /// start) as ended at `t` with outcome `o`, inside the caller's write transaction, before
  /// the caller's update clears the row. False when the job is not processing (or, with an
  /// `owner`, not leased to it): nothing was written.
  bool close_running_attempt(const std::string& id, long long t, attempt_outcome o, const std::string& why,
                             const std::string& owner = {}) {
    const std::string outcome(to_string(o));
    soci::statement st = (sql_.prepare << "INSERT INTO attempts(job_id, number, worker, started_at, finished_at, outcome, error) "
                                          "SELECT id, attempt_seq, lease_owner, COALESCE(attempt_started_at, updated_at), :t, :o, :e "
                                          "FROM jobs WHERE id = :id AND state = 'processing' AND (:any = 1 OR lease_owner = :w)",
                          soci::use(t), soci::use(outcome), soci::use(why), soci::use(id), soci::use(owner.empty() ? 1 : 0),
                          soci::use(owner));
    st.execute(true);
    return st.get_affected_rows() == 1;
  }

  void migrate() {
    // Fast path for every open after the first: the file header's user_version mirrors
    // the schema version, and reading it needs neither a write lock nor a schema parse
    // (a CLI call opens the database once per process).
    int header_version = 0;
    sql_ << "PRAGMA user_version", soci::into(header_version);
    if (header_version == schema_version) return;
    write_txn tx(*this);
    sql_ << "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)";
    int version = 0;
    soci::indicator ind = soci::i_null;
    sql_ << "SELECT MAX(version) FROM schema_version", soci::into(version, ind);
    if (ind == soci::i_null) version = 0;
    if (version > schema_version)
      throw error(error_kind::storage, "queuectl.storage.schema_too_new",
                  path_ + " has schema version " + std::to_string(version) + "; this queuectl understands up to " +
                      std::to_string(schema_version) + ": upgrade queuectl");
    detail::sqlite_schema_steps(sql_, version);
    sql_ << "PRAGMA user_version = " + std::to_string(schema_version);
    tx.commit();
  }

  /// read_only: the file as it is, or — when the -shm beside it cannot be created (a
  /// read-only directory) — as an immutable snapshot through a URI filename.
  void open_read_only() {
    wrap([&] {
      try {
        sql_.open(soci::sqlite3, "db=" + detail::sqlite_quoted(path_) + " readonly=1 timeout=" + std::to_string(std::max(1, opts_.busy_timeout_ms / 1000)));
        sql_ << "PRAGMA busy_timeout=" << opts_.busy_timeout_ms;
        check_schema_read_only();
        return;
      } catch (const soci::soci_error& e) {
        const std::string what = e.what();
        if (what.find("readonly") == std::string::npos && what.find("unable to open") == std::string::npos) throw;
        sql_.close();
      }
      sql_.open(soci::sqlite3, "db=" + detail::sqlite_quoted(detail::sqlite_immutable_uri(path_)) + " readonly=1");
      check_schema_read_only();
    });
  }

  void check_schema_read_only() {
    int header_version = 0;
    sql_ << "PRAGMA user_version", soci::into(header_version);
    if (header_version != schema_version)
      throw error(error_kind::storage, "queuectl.storage.read_only_schema",
                  path_ + " has schema version " + std::to_string(header_version) + ", this queuectl needs " +
                      std::to_string(schema_version) + ": open it once with write access to migrate it");
  }

  std::string path_;
  sqlite_options opts_;
  std::mutex mu_;
  soci::session sql_;
  std::unique_ptr<hot> hot_;  // after sql_: its statements die before the session
};

static_assert(storage_policy<sqlite_storage> && attempt_statistics<sqlite_storage> && counts_per_queue<sqlite_storage> &&
              bulk_dead_retry<sqlite_storage>);

}  // namespace queuectl
