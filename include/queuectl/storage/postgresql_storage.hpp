/// @file
/// @brief Storage in a PostgreSQL database through SOCI, shared by many hosts.
#pragma once

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/error.hpp"
#include "queuectl/storage/detail/job_update_sql.hpp"
#include "queuectl/storage/detail/pg_clock.hpp"
#include "queuectl/storage/detail/pg_hot.hpp"
#include "queuectl/storage/detail/pg_pool.hpp"
#include "queuectl/storage/detail/pg_schema.hpp"
#include "queuectl/storage/detail/pg_text.hpp"
#include "queuectl/storage/detail/soci_rows.hpp"
#include "queuectl/storage/detail/soci_sql.hpp"

namespace queuectl {

/// @brief Settings of postgresql_storage.
struct postgresql_options {
  std::size_t pool_size = 4;  ///< connections (one per concurrent operation; workers + 2 per host)
  /// Schema (namespace) holding the tables, created if missing; empty: the connection's
  /// search_path (normally `public`). Several queues can share one database this way.
  std::string schema;
  std::string channel = "queuectl_jobs";  ///< NOTIFY channel of enqueue/retry wake-ups
  /// How long one operation keeps reconnecting and retrying while the database is
  /// unreachable before it throws.
  milliseconds retry_budget{30000};
  /// The budget of opening the storage (first connection, schema check) when it should differ
  /// from retry_budget: an unreachable server at start-up fails within the connect_timeout
  /// the user gave rather than after the outage budget of a running host.
  std::optional<milliseconds> open_retry_budget;
  /// Called (from the failing thread) each time an operation is about to be retried after
  /// a lost connection, with the reason — e.g. to log a database outage. Must not throw.
  std::function<void(const std::string&)> on_retry;
  /// How often the offset between this host's clock and the database's is measured again
  /// (0: only when the storage is opened, and after a clock step).
  milliseconds clock_resync{60000};
  /// A wall clock that moves this far from the database time carried forward by the
  /// monotonic clock counts as stepped: the offset follows at the next operation and is
  /// measured again (docs/deploy.md, "Clock skew and steps").
  milliseconds clock_step{250};
  /// The clock callers' times come from (basic_queue passes queuectl::now()); tests use it
  /// to play a host whose clock is off or steps. Empty: queuectl::now.
  std::function<time_point()> local_clock;
  /// The monotonic clock the database time is carried forward with between measurements
  /// (tests inject one). Empty: std::chrono::steady_clock.
  std::function<std::chrono::steady_clock::time_point()> monotonic_clock;
};

/// @brief Keeps the queue in a PostgreSQL database, shared by any number of hosts.
///
/// - **Claims** are one statement, `UPDATE … WHERE seq IN (SELECT … ORDER BY priority DESC,
///   run_at, seq LIMIT n FOR UPDATE SKIP LOCKED) RETURNING …`, served by a partial index
///   over claimable jobs; the attempt record is opened by the same statement. Two workers,
///   on any hosts, never get the same job, and they do not wait for each other's rows.
/// - **Time is the database's.** The storage measures the offset between the caller's
///   clock and the database clock (`clock_timestamp()`) when it opens and every
///   `clock_resync`, and stores every time on the database's timeline: leases, due times
///   and lapse checks of hosts whose clocks disagree all compare against one clock. Times
///   read back are translated to the caller's clock, so a value round-trips exactly.
///   Between measurements the database time is carried forward by the monotonic clock: a
///   step of the wall clock (more than `clock_step`) is noticed at the next operation and
///   followed at once, not at the next resync.
///   (Callers pass `now` explicitly — the storage_policy contract — so the times must come
///   from `postgresql_options::local_clock`; basic_queue uses queuectl::now(), the default.)
/// - **Connections** come from a soci::connection_pool of `pool_size` sessions, opened on
///   first use; each operation borrows one. Hot statements are prepared once per session.
/// - **Outages**: an operation that fails because the connection is lost (server restart,
///   network) reconnects and retries with exponential backoff for up to `retry_budget`,
///   then throws; other errors throw queuectl::error at once. A retried operation is
///   at-least-once: if the connection died after the server committed, a claim's jobs are
///   recovered when their lease lapses and a finish reports `false`.
/// - **Wake-ups**: enqueue, release, requeue after a lapsed lease and retry from the dead
///   letter queue `pg_notify(channel)` in their transaction; postgresql_listener waits
///   for them.
class postgresql_storage {
 public:
  static constexpr int schema_version = storage_schema_version;

  /// @param connection a libpq connection string: `postgresql://user@host:port/db?…` or
  ///                   `host=… dbname=…`
  explicit postgresql_storage(std::string connection, std::size_t pool_size = 4)
      : postgresql_storage(std::move(connection), with_pool(pool_size)) {}

  postgresql_storage(std::string connection, postgresql_options opts)
      : conn_(std::move(connection)), soci_conn_(detail::pg_keyword_form(conn_)), opts_(std::move(opts)) {
    if (opts_.pool_size < 1 || opts_.pool_size > 1000)
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.pool_size", "pool size must be 1..1000");
    if (!opts_.schema.empty() && !detail::pg_valid_identifier(opts_.schema))
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.schema",
                  "schema name must match [a-z_][a-z0-9_]* (at most 63 characters): '" + opts_.schema + "'");
    if (opts_.channel.empty() || opts_.channel.size() > 63)
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.channel",
                  "channel name must have 1..63 characters");
    if (!opts_.local_clock) opts_.local_clock = [] { return queuectl::now(); };
    clock_.configure(std::max<long long>(1, opts_.clock_step.count()), opts_.clock_resync, opts_.local_clock,
                     opts_.monotonic_clock);
    pool_ = std::make_unique<soci::connection_pool>(opts_.pool_size);
    slots_ = std::vector<slot>(opts_.pool_size);
    const milliseconds running_budget = opts_.retry_budget;
    if (opts_.open_retry_budget) opts_.retry_budget = *opts_.open_retry_budget;
    run([&](leased& l) { detail::pg_migrate(l.sql, opts_.schema); });
    opts_.retry_budget = running_budget;
  }

  ~postgresql_storage() {
    for (auto& s : slots_) s.h.reset();  // prepared statements go before their sessions
  }

  postgresql_storage(const postgresql_storage&) = delete;
  postgresql_storage& operator=(const postgresql_storage&) = delete;

  const std::string& connection_string() const noexcept { return conn_; }
  /// The channel that enqueue/retry notify; give it to postgresql_listener.
  const std::string& notify_channel() const noexcept { return opts_.channel; }
  const std::string& schema() const noexcept { return opts_.schema; }
  /// `connection` (URL or keywords) in the `key='value'` form SOCI 4.0.3 passes on intact,
  /// for opening other SOCI sessions on the same database.
  static std::string soci_connection_string(const std::string& connection) {
    return detail::pg_keyword_form(connection);
  }
  /// Database clock minus the local clock, as last measured.
  milliseconds clock_offset() const noexcept { return clock_.offset(); }

  /// Sends a wake-up on the notify channel (e.g. after changing jobs by hand).
  void notify() {
    run([&](leased& l) { send_notify(l.sql); });
  }

  // Enqueue: one INSERT … unnest per batch (detail/pg_writes.hpp).
  void insert(const std::vector<job>& jobs);
  void insert_sequential(std::vector<job>& jobs);

  // The hot path: statements prepared once per session (detail/pg_hot.hpp).
  std::vector<job> claim(const claim_request& req) {
    if (req.executors && req.executors->empty()) return {};  // runs nothing: takes nothing
    auto out = run([&](leased& l) {
      std::vector<job> got;
      detail::pg_hot& h = l.statements();
      h.owner = req.owner;
      h.now = db(req.now);
      h.until = db(req.lease_until);
      h.limit = static_cast<long long>(std::min<std::size_t>(req.max_jobs, 100000));
      h.any_executor = req.executors ? 0 : 1;
      h.executors = req.executors ? detail::names_to_json(*req.executors) : "[]";
      auto collect = [&](soci::statement& st, soci::row& r) {
        if (st.execute(true)) {
          do got.push_back(to_local(detail::job_from_row(r)));
          while (st.fetch());
        }
      };
      if (req.queues.empty()) {
        collect(req.executors ? *h.claim_for : *h.claim_any, h.row);
      } else {  // rare: one placeholder per queue, not prepared
        std::string in;
        for (std::size_t i = 0; i < req.queues.size(); ++i) in += (i ? ", :q" : ":q") + std::to_string(i);
        soci::row r;
        soci::statement st(l.sql);
        st.alloc();
        st.prepare(detail::pg_claim_sql(std::string(detail::pg_executor_filter) + " AND queue IN (" + in + ")"),
                   soci::details::st_one_time_query);
        st.exchange(soci::use(h.owner, "owner"));
        st.exchange(soci::use(h.until, "until"));
        st.exchange(soci::use(h.now, "now"));
        st.exchange(soci::use(h.limit, "lim"));
        st.exchange(soci::use(h.any_executor, "anyex"));
        st.exchange(soci::use(h.executors, "ex"));
        for (std::size_t i = 0; i < req.queues.size(); ++i)
          st.exchange(soci::use(req.queues[i], "q" + std::to_string(i)));
        st.exchange(soci::into(r));
        st.define_and_bind();
        collect(st, r);
      }
      return got;
    });
    std::sort(out.begin(), out.end(), [](const job& a, const job& b) {
      return a.priority != b.priority ? a.priority > b.priority
             : a.run_at != b.run_at   ? a.run_at < b.run_at
                                      : a.seq < b.seq;
    });
    return out;
  }

  bool renew_lease(std::string_view id, std::string_view owner, time_point until) {
    return run([&](leased& l) {
      detail::pg_hot& h = l.statements();
      h.id = id;
      h.owner = owner;
      h.until = db(until);
      h.renew->execute(true);
      return h.renew->get_affected_rows() == 1;
    });
  }

  bool finish(const finish_request& f) {
    return run([&](leased& l) {
      detail::pg_hot& h = l.statements();
      h.id = f.id;
      h.owner = f.owner;
      h.state = to_string(f.state);
      h.outcome = to_string(f.outcome);
      h.now = db(f.now);
      const bool retry = f.state == job_state::failed;
      h.run_at = retry ? db(f.run_at) : 0;
      h.exit_code = f.exit_code.value_or(0);
      h.exit_code_ind = f.exit_code ? soci::i_ok : soci::i_null;
      h.error = detail::pg_text(f.last_error);  // executor output may be any bytes
      h.output = detail::pg_text(f.output);
      h.count = 0;
      h.notified = 0;
      (retry ? *h.finish_retry : *h.finish_done).execute(true);
      return h.count == 1;
    });
  }

  std::optional<time_point> next_due(const claim_request& req);  // detail/pg_queries.hpp

  // State changes outside the hot path (detail/pg_writes.hpp).
  bool release(std::string_view id, std::string_view owner, time_point now);
  std::vector<lapsed_lease> lapsed_leases(time_point now);
  bool recover_lapsed(const lapse_recovery& r);
  bool cancel(std::string_view id, time_point now);
  bool retry_dead(std::string_view id, time_point now);
  std::size_t retry_all_dead(time_point now);
  bool remove(std::string_view id);
  bool update_job(const job_update& u);
  reset_result reset_jobs(bool force);
  std::size_t purge(const purge_filter& f);

  // Reads (detail/pg_queries.hpp).
  std::optional<job> get(std::string_view id);
  std::vector<job> list(const list_filter& f);
  state_counts counts();
  std::map<std::string, state_counts> counts_by_queue();
  std::map<std::string, std::size_t> waiting_by_executor();
  std::vector<attempt_record> attempts(std::string_view id);
  attempt_stats stats(std::optional<time_point> since);
  std::vector<minute_count> finished_per_minute(time_point since);

  // Config entries and worker registrations (detail/pg_admin.hpp).
  std::optional<std::string> get_config(std::string_view key);
  void set_config(std::string_view key, std::string_view value);
  void set_config_entries(const std::map<std::string, std::string>& entries);
  std::map<std::string, std::string> config_entries();
  void reset_config();
  void upsert_worker(const worker_info& w);
  void remove_worker(std::string_view id);
  std::vector<worker_info> workers();

  /// The claim query's plan, for tests and diagnostics (`EXPLAIN`), for a claimer of
  /// the executors `executors` (nullopt: any).
  std::vector<std::string> claim_query_plan(const std::optional<std::vector<std::string>>& executors = std::nullopt);

 private:
  struct slot {
    bool open = false;
    std::unique_ptr<detail::pg_hot> h;
  };

  /// One pooled session, borrowed for the duration of one operation (one attempt of it).
  struct leased {
    postgresql_storage& self;
    std::size_t pos;
    soci::session& sql;
    explicit leased(postgresql_storage& s) : self(s), pos(s.pool_->lease()), sql(s.pool_->at(pos)) {}
    ~leased() { self.pool_->give_back(pos); }
    leased(const leased&) = delete;
    leased& operator=(const leased&) = delete;
    slot& state() { return self.slots_[pos]; }
    detail::pg_hot& statements() {
      slot& s = state();
      if (!s.h) s.h = detail::pg_prepare_hot(sql, self.opts_.channel);
      return *s.h;
    }
  };

  static postgresql_options with_pool(std::size_t n) {
    postgresql_options o;
    o.pool_size = n;
    return o;
  }

  long long db(time_point t) const noexcept { return clock_.db(t); }
  time_point local(long long ms) const noexcept { return clock_.local(ms); }
  job to_local(job j) const { return clock_.to_local(std::move(j)); }

  /// Runs `f` on a borrowed session. Connection loss (and deadlocks/serialization
  /// failures): discard the session, wait, retry, until the retry budget is spent.
  template <class F>
  std::invoke_result_t<F&, leased&> run(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    milliseconds pause(25);
    while (true) {
      std::string why;
      {
        leased l(*this);
        bool opening = false;
        try {
          if (!l.state().open) {
            opening = true;
            open(l);
            opening = false;
          }
          clock_.maybe_sync(l.sql);
          return f(l);
        } catch (const error&) {
          throw;
        } catch (const soci::soci_error& e) {
          const auto kind = detail::pg_classify(l.sql, e, opening);
          // A session that failed while opening may lack its search_path: never keep it.
          if (opening || kind == detail::pg_failure::connection) discard(l);
          if (kind == detail::pg_failure::permanent) throw detail::pg_translate(e);
          why = detail::pg_message(e);
        }
      }  // the session is back in the pool while this one waits
      const auto spent = std::chrono::steady_clock::now() - start;
      if (spent + pause > opts_.retry_budget)
        throw error(error_kind::storage, "queuectl.storage.postgresql.unavailable",
                    "database unavailable, gave up after " +
                        std::to_string(std::chrono::duration_cast<milliseconds>(spent).count()) + " ms: " + why);
      if (opts_.on_retry) {
        try {
          opts_.on_retry(why);
        } catch (...) {  // a logging hook must not turn a retry into a failure
        }
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, milliseconds(2000));
    }
  }

  void open(leased& l) {
    l.sql.open(soci::postgresql, soci_conn_);
    l.state().open = true;
    // Server NOTICEs ("relation … already exists, skipping") would go to stderr: drop them.
    if (auto* be = static_cast<soci::postgresql_session_backend*>(l.sql.get_backend()); be && be->conn_)
      PQsetNoticeProcessor(
          be->conn_, [](void*, const char*) {}, nullptr);
    if (!opts_.schema.empty()) {
      const std::string path = "\"" + opts_.schema + "\"";
      std::string ignored;
      l.sql << "SELECT set_config('search_path', :p, false)", soci::use(path), soci::into(ignored);
    }
  }

  /// Drops a broken session: its statements first (they refer to its backend), then it.
  void discard(leased& l) {
    l.state().h.reset();
    l.state().open = false;
    try {
      l.sql.close();
    } catch (...) {
    }
  }

  // Members of detail/pg_writes.hpp and detail/pg_admin.hpp.
  void close_running_attempt(soci::session& sql, const std::string& id, long long t, attempt_outcome o,
                             const std::string& why);
  void insert_chunk(soci::session& sql, const std::vector<job>& jobs, std::size_t from, std::size_t n);
  void send_notify(soci::session& sql);

  /// Limits of one INSERT statement: a batch within them is one statement (its values travel
  /// as 16 array parameters, whatever the row count); a larger one is cut into several.
  static constexpr std::size_t insert_chunk_rows = 10000;
  static constexpr std::size_t insert_chunk_bytes = std::size_t(32) << 20;

  std::string conn_;       // as given (for listeners)
  std::string soci_conn_;  // keyword form handed to SOCI
  postgresql_options opts_;
  detail::pg_clock clock_;
  std::unique_ptr<soci::connection_pool> pool_;
  std::vector<slot> slots_;  // after pool_: destroyed first
};

}  // namespace queuectl

#include "queuectl/storage/detail/pg_admin.hpp"
#include "queuectl/storage/detail/pg_queries.hpp"
#include "queuectl/storage/detail/pg_writes.hpp"

namespace queuectl {
static_assert(storage_policy<postgresql_storage> && attempt_statistics<postgresql_storage> && counts_per_queue<postgresql_storage> &&
              bulk_dead_retry<postgresql_storage> && attempts_per_minute<postgresql_storage>);
}  // namespace queuectl
