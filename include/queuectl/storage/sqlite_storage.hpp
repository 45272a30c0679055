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

  explicit sqlite_storage(std::string path, sqlite_options opts = {});

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

  /// Numbers the jobs without an id (sequential_id_prefix + counter) and inserts them.
  void insert_sequential(std::vector<job>& jobs);

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
        const bool retry = f.state == job_state::failed;
        detail::sqlite_statement& st = retry ? *h.finish_retry : *h.finish_done;
        st.bind(":s", state).bind(":now", t).bind(":err", f.last_error).bind(":code", f.exit_code);
        st.bind(":id", f.id).bind(":o", f.owner);
        if (retry) st.bind(":ra", to_ms(f.run_at));
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

  // Transitions off the hot path (detail/sqlite_writes.hpp).
  bool release(std::string_view id, std::string_view owner, time_point now);
  /// A read: no write lock is taken when nothing has lapsed (the usual case).
  std::vector<lapsed_lease> lapsed_leases(time_point now);
  bool recover_lapsed(const lapse_recovery& r);
  bool cancel(std::string_view id, time_point now);
  bool retry_dead(std::string_view id, time_point now);
  std::size_t retry_all_dead(time_point now);
  bool remove(std::string_view id);
  bool update_job(const job_update& u);
  reset_result reset_jobs(bool force);
  std::size_t purge(const purge_filter& f);

  // Reads (detail/sqlite_queries.hpp).
  std::optional<time_point> next_due(const claim_request& req);
  std::optional<job> get(std::string_view id);
  std::vector<job> list(const list_filter& f);
  state_counts counts();
  std::map<std::string, state_counts> counts_by_queue();
  std::map<std::string, std::size_t> waiting_by_executor();
  std::vector<attempt_record> attempts(std::string_view id);
  attempt_stats stats(std::optional<time_point> since);
  std::vector<minute_count> finished_per_minute(time_point since);
  /// The claim query's plan, for tests and diagnostics (`EXPLAIN QUERY PLAN`), for a
  /// claimer of the executors `executors` (nullopt: any).
  std::vector<std::string> claim_query_plan(const std::optional<std::vector<std::string>>& executors = std::nullopt);

  // Config entries and worker registrations (detail/sqlite_admin.hpp).
  std::optional<std::string> get_config(std::string_view key);
  void set_config(std::string_view key, std::string_view value);
  void set_config_entries(const std::map<std::string, std::string>& entries);
  std::map<std::string, std::string> config_entries();
  void reset_config();
  void upsert_worker(const worker_info& w);
  void remove_worker(std::string_view id);
  std::vector<worker_info> workers();

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
    std::unique_ptr<detail::sqlite_statement> begin, commit, claim_any, claim_for, finish_done, finish_retry, record_attempt,
        renew, insert;
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
    // Two shapes, so that the common finish carries no CASE for the retry time.
    const auto finish = [&](const char* set_run_at) {
      return prepare(std::string("UPDATE jobs SET state = :s, updated_at = :now, last_error = :err, exit_code = :code, "
                                 "lease_owner = '', lease_expires_at = NULL") +
                     set_run_at +
                     " WHERE id = :id AND state = 'processing' AND lease_owner = :o "
                     "RETURNING attempt_seq, COALESCE(attempt_started_at, :now)");
    };
    h->finish_done = finish("");
    h->finish_retry = finish(", run_at = :ra");
    h->record_attempt = prepare(
        "INSERT INTO attempts(job_id, number, worker, started_at, finished_at, outcome, exit_code, output, error) "
        "VALUES(:id, :n, :w, :st, :t, :o, :c, :out, :e)");
    h->renew = prepare("UPDATE jobs SET lease_expires_at = :u WHERE id = :id AND state = 'processing' AND lease_owner = :o");
    h->insert = prepare(
        "INSERT OR IGNORE INTO jobs(id, command, executor, payload, queue, state, attempts, recoveries, max_retries, "
        "priority, run_at, timeout, env, cwd, created_at, updated_at) "
        "VALUES(:id, :c, :e, :p, :q, :s, :a, :r, :m, :pr, :ra, :t, :env, :cwd, :ca, :ua)");
    return *h;
  }

  /// BEGIN IMMEDIATE can report SQLITE_BUSY at once (another process is checkpointing or
  /// creating the schema) instead of waiting in the busy handler: retry until the timeout.
  void begin_immediate() {
    retrying_busy([&] { detail::sqlite_statement::run(*txn_statements().begin).execute(); });
  }

  /// Runs `f`, again while SQLite reports the database busy or locked, until the busy timeout.
  template <class F>
  void retrying_busy(F&& f) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.busy_timeout_ms);
    while (true) {
      try {
        f();
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
    retrying_busy([&] { sql_ << stmt; });
  }


  /// The rows of insert(), inside the caller's write transaction: one prepared statement
  /// re-run per row, its text bound without copies.
  void insert_rows(const std::vector<job>& jobs) {
    detail::sqlite_statement& ins = *hot_statements().insert;
    std::string env;
    for (const job& j : jobs) {
      env = j.env.empty() ? std::string("{}") : detail::env_to_json(j.env);
      ins.bind(":id", j.id).bind(":c", j.command).bind(":e", j.executor).bind(":p", j.payload).bind(":q", j.queue);
      ins.bind(":s", to_string(j.state)).bind(":a", j.attempts).bind(":r", j.recoveries).bind(":m", j.max_retries);
      ins.bind(":pr", j.priority).bind(":ra", to_ms(j.run_at)).bind(":t", j.timeout).bind(":env", env);
      ins.bind(":cwd", j.cwd).bind(":ca", to_ms(j.created_at)).bind(":ua", to_ms(j.updated_at));
      if (detail::sqlite_statement::run(ins).execute() != 1)  // rolled back by tx: nothing of the batch is stored
        throw error(error_kind::conflict, "queuectl.storage.duplicate_id", "job id '" + j.id + "' already exists");
    }
  }

  /// Writes the record of job `id`'s running attempt (read off its row: number, worker,
  /// start) as ended at `t` with outcome `o`, inside the caller's write transaction, before
  /// the caller's update clears the row. False when the job is not processing (or, with an
  /// `owner`, not leased to it): nothing was written.
  bool close_running_attempt(const std::string& id, long long t, attempt_outcome o, const std::string& why,
                             const std::string& owner = {});

  void migrate();

  /// read_only: the file as it is, or — when the -shm beside it cannot be created (a
  /// read-only directory) — as an immutable snapshot through a URI filename.
  void open_read_only();

  void check_schema_read_only();

  std::string path_;
  sqlite_options opts_;
  std::mutex mu_;
  soci::session sql_;
  std::unique_ptr<hot> hot_;  // after sql_: its statements die before the session
};

}  // namespace queuectl

#include "queuectl/storage/detail/sqlite_admin.hpp"
#include "queuectl/storage/detail/sqlite_open.hpp"
#include "queuectl/storage/detail/sqlite_queries.hpp"
#include "queuectl/storage/detail/sqlite_writes.hpp"

namespace queuectl {
static_assert(storage_policy<sqlite_storage> && attempt_statistics<sqlite_storage> && counts_per_queue<sqlite_storage> &&
              bulk_dead_retry<sqlite_storage> && attempts_per_minute<sqlite_storage>);

}  // namespace queuectl
