/// @file
/// @brief Storage in a PostgreSQL database through SOCI, shared by many hosts.
#pragma once

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/error.hpp"
#include "queuectl/storage/detail/db_clock.hpp"
#include "queuectl/storage/detail/job_update_sql.hpp"
#include "queuectl/storage/detail/lapse_report.hpp"
#include "queuectl/storage/detail/soci_rows.hpp"

namespace queuectl {

namespace detail {
/// Text PostgreSQL accepts: valid UTF-8 without NUL bytes (invalid bytes become U+FFFD).
/// Executor output can be any bytes; a finish must not fail because of it.
inline std::string pg_text(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= n && c != 0;
    for (std::size_t k = 1; ok && k < len; ++k) ok = (s[i + k] & 0xC0) == 0x80;
    if (ok && len == 2) ok = c >= 0xC2;  // overlong
    if (ok && len == 3) {
      const unsigned cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
      ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok && len == 4) {
      const unsigned cp =
          ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
      ok = cp >= 0x10000 && cp <= 0x10FFFF;
    }
    if (ok) {
      out.append(in, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      i += 1;
    }
  }
  return out;
}

/// Builds a one-dimensional PostgreSQL array literal (`{"a","b"}`, `{1,2}`), bound as one
/// text parameter and cast to its array type in the statement. Text elements are cut at
/// their first NUL byte, as libpq cuts every text parameter (it takes C strings).
class pg_array {
 public:
  void text(std::string_view s) {
    s = s.substr(0, s.find('\0'));
    next();
    out_ += '"';
    for (const char c : s) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void integer(long long v) {
    next();
    out_ += std::to_string(v);
  }
  void real(double v) {  // shortest form that reads back as the same double
    next();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  std::string str() const { return out_.empty() ? "{}" : out_ + "}"; }

 private:
  void next() { out_ += out_.empty() ? '{' : ','; }
  std::string out_;
};
}  // namespace detail

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
      : conn_(std::move(connection)), soci_conn_(keyword_form(conn_)), opts_(std::move(opts)) {
    if (opts_.pool_size < 1 || opts_.pool_size > 1000)
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.pool_size", "pool size must be 1..1000");
    if (!opts_.schema.empty() && !valid_identifier(opts_.schema))
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.schema",
                  "schema name must match [a-z_][a-z0-9_]* (at most 63 characters): '" + opts_.schema + "'");
    if (opts_.channel.empty() || opts_.channel.size() > 63)
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.channel",
                  "channel name must have 1..63 characters");
    if (!opts_.local_clock) opts_.local_clock = [] { return queuectl::now(); };
    clock_ = detail::db_clock(std::max<long long>(1, opts_.clock_step.count()));
    pool_ = std::make_unique<soci::connection_pool>(opts_.pool_size);
    slots_ = std::vector<slot>(opts_.pool_size);
    const milliseconds running_budget = opts_.retry_budget;
    if (opts_.open_retry_budget) opts_.retry_budget = *opts_.open_retry_budget;
    run([&](leased& l) { migrate(l.sql); });
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
  static std::string soci_connection_string(const std::string& connection) { return keyword_form(connection); }
  /// Database clock minus the local clock, as last measured.
  milliseconds clock_offset() const noexcept { return milliseconds(off_.load()); }

  /// Sends a wake-up on the notify channel (e.g. after changing jobs by hand).
  void notify() {
    run([&](leased& l) { send_notify(l.sql); });
  }

  void insert(const std::vector<job>& jobs) {
    if (jobs.empty()) return;
    run([&](leased& l) {
      txn tx(l.sql);
      for (std::size_t from = 0; from < jobs.size(); from += insert_chunk_rows)
        insert_chunk(l.sql, jobs, from, std::min(insert_chunk_rows, jobs.size() - from));
      send_notify(l.sql);
      tx.commit();
    });
  }

  void insert_sequential(std::vector<job>& jobs) {
    if (jobs.empty()) return;
    run([&](leased& l) {
      txn tx(l.sql);
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
        select_rows(
            l.sql, "SELECT id FROM jobs WHERE id = ANY(CAST(:ids AS text[]))",
            [&](soci::statement& st) { st.exchange(soci::use(id_array, "ids")); },
            [&](const soci::row& r) { used.insert(detail::row_text(r, 0)); });
        for (std::string& id : candidates)
          if (!used.count(id) && taken.insert(id).second) unnumbered[given++]->id = std::move(id);
      }
      for (std::size_t from = 0; from < numbered.size(); from += insert_chunk_rows)
        insert_chunk(l.sql, numbered, from, std::min(insert_chunk_rows, numbered.size() - from));
      send_notify(l.sql);
      tx.commit();
      jobs = std::move(numbered);
    });
  }

  std::vector<job> claim(const claim_request& req) {
    if (req.executors && req.executors->empty()) return {};  // runs nothing: takes nothing
    auto out = run([&](leased& l) {
      std::vector<job> got;
      hot& h = l.statements();
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
        collect(*h.claim, h.row);
      } else {  // rare: one placeholder per queue, not prepared
        std::string in;
        for (std::size_t i = 0; i < req.queues.size(); ++i) in += (i ? ", :q" : ":q") + std::to_string(i);
        soci::row r;
        soci::statement st(l.sql);
        st.alloc();
        st.prepare(claim_sql(" AND queue IN (" + in + ")"), soci::details::st_one_time_query);
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

  std::optional<time_point> next_due(const claim_request& req) {
    if (req.executors && req.executors->empty()) return std::nullopt;
    return run([&](leased& l) {
      std::optional<time_point> first;
      const int any_executor = req.executors ? 0 : 1, any_queue = req.queues.empty() ? 1 : 0;
      const std::string executors = req.executors ? detail::names_to_json(*req.executors) : "[]";
      const std::string queues = detail::names_to_json(req.queues);
      select_rows(
          l.sql,
          std::string("SELECT MIN(run_at) FROM jobs WHERE state IN ('pending', 'failed')") + executor_filter +
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

  bool renew_lease(std::string_view id, std::string_view owner, time_point until) {
    return run([&](leased& l) {
      hot& h = l.statements();
      h.id = id;
      h.owner = owner;
      h.until = db(until);
      h.renew->execute(true);
      return h.renew->get_affected_rows() == 1;
    });
  }

  bool finish(const finish_request& f) {
    return run([&](leased& l) {
      hot& h = l.statements();
      h.id = f.id;
      h.owner = f.owner;
      h.state = to_string(f.state);
      h.outcome = to_string(f.outcome);
      h.now = db(f.now);
      h.run_at = f.state == job_state::failed ? db(f.run_at) : 0;
      h.failed = f.state == job_state::failed ? 1 : 0;
      h.exit_code = f.exit_code.value_or(0);
      h.exit_code_ind = f.exit_code ? soci::i_ok : soci::i_null;
      h.error = detail::pg_text(f.last_error);  // executor output may be any bytes
      h.output = detail::pg_text(f.output);
      h.count = 0;
      h.notified = 0;
      h.finish->execute(true);
      return h.count == 1;
    });
  }

  bool release(std::string_view id, std::string_view owner, time_point now) {
    return run([&](leased& l) {
      txn tx(l.sql);
      const std::string i(id), o(owner);
      const long long t = db(now);
      soci::statement up(l.sql);
      one_time(up,
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

  reclaim_result reclaim_expired(time_point now, int max_recoveries) {
    return run([&](leased& l) {
      reclaim_result res;
      const long long t = db(now);
      txn tx(l.sql);
      // SKIP LOCKED: a job being finished or renewed right now is not touched; the lapse
      // condition is checked again on the row's latest version once it is locked.
      std::vector<detail::lapsed_job> lapsed;
      select_rows(
          l.sql,
          "SELECT id, lease_owner, recoveries + 1 FROM jobs WHERE state = 'processing' AND lease_expires_at < :t "
          "FOR UPDATE SKIP LOCKED",
          [&](soci::statement& st) { st.exchange(soci::use(t, "t")); },
          [&](const soci::row& r) {
            lapsed.push_back({detail::row_text(r, 0), detail::row_text(r, 1), static_cast<int>(detail::row_int(r, 2))});
          });
      const auto texts = detail::describe_lapses(lapsed, max_recoveries);
      for (const auto& j : lapsed) {
        const auto& text = texts.at(j.id);
        close_running_attempt(l.sql, j.id, t, attempt_outcome::lost, text.attempt_error);
        // A lost attempt is not counted against max_retries; the lapse is, against max-recoveries.
        const bool dead = !text.dead_error.empty();
        soci::statement up(l.sql);
        if (dead)
          one_time(up,
                   "UPDATE jobs SET state = 'dead', recoveries = :r, attempts = GREATEST(0, attempts - 1), "
                   "last_error = :why, updated_at = :t, lease_owner = '', lease_expires_at = NULL WHERE id = :id",
                   soci::use(j.lapses, "r"), soci::use(text.dead_error, "why"), soci::use(t, "t"), soci::use(j.id, "id"));
        else
          one_time(up,
                   "UPDATE jobs SET state = 'pending', recoveries = :r, attempts = GREATEST(0, attempts - 1), "
                   "run_at = :t, updated_at = :t2, lease_owner = '', lease_expires_at = NULL WHERE id = :id",
                   soci::use(j.lapses, "r"), soci::use(t, "t"), soci::use(t, "t2"), soci::use(j.id, "id"));
        up.execute(true);
        ++(dead ? res.dead : res.requeued);
      }
      if (res.requeued) send_notify(l.sql);
      tx.commit();
      return res;
    });
  }

  bool cancel(std::string_view id, time_point now) {
    return run([&](leased& l) {
      txn tx(l.sql);
      const std::string i(id);
      const long long t = db(now);
      soci::statement up(l.sql);
      one_time(up,
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

  bool retry_dead(std::string_view id, time_point now) {
    return run([&](leased& l) {
      txn tx(l.sql);
      const std::string i(id);
      const long long t = db(now);
      soci::statement up(l.sql);
      one_time(up, std::string(detail::retry_dead_sql) + " AND id = :id", soci::use(t, "t"), soci::use(i, "id"));
      up.execute(true);
      if (up.get_affected_rows() != 1) return false;
      send_notify(l.sql);
      tx.commit();
      return true;
    });
  }

  std::size_t retry_all_dead(time_point now) {
    return run([&](leased& l) {
      txn tx(l.sql);
      const long long t = db(now);
      soci::statement up(l.sql);
      one_time(up, detail::retry_dead_sql, soci::use(t, "t"));
      up.execute(true);
      const auto n = static_cast<std::size_t>(up.get_affected_rows());
      if (n) send_notify(l.sql);
      tx.commit();
      return n;
    });
  }

  bool remove(std::string_view id) {
    return run([&](leased& l) {
      txn tx(l.sql);
      const std::string i(id);
      soci::statement del(l.sql);
      one_time(del, "DELETE FROM jobs WHERE id = :id AND state <> 'processing'", soci::use(i, "id"));
      del.execute(true);
      if (del.get_affected_rows() != 1) return false;
      l.sql << "DELETE FROM attempts WHERE job_id = :id", soci::use(i);
      tx.commit();
      return true;
    });
  }

  bool update_job(const job_update& u) {
    return run([&](leased& l) {
      txn tx(l.sql);
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

  reset_result reset_jobs(bool force) {
    return run([&](leased& l) {
      reset_result r;
      txn tx(l.sql);
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
      one_time(del, "DELETE FROM jobs");
      del.execute(true);
      r.deleted = static_cast<std::size_t>(del.get_affected_rows());
      tx.commit();
      return r;
    });
  }

  std::optional<job> get(std::string_view id) {
    return run([&](leased& l) {
      std::optional<job> out;
      const std::string i(id);
      select_rows(
          l.sql, std::string("SELECT ") + detail::job_columns + " FROM jobs WHERE id = :id",
          [&](soci::statement& st) { st.exchange(soci::use(i, "id")); },
          [&](const soci::row& r) { out = to_local(detail::job_from_row(r)); });
      return out;
    });
  }

  std::vector<job> list(const list_filter& f) {
    return run([&](leased& l) {
      std::vector<job> out;
      const std::string state = f.state ? std::string(to_string(*f.state)) : std::string();
      const std::string queue = f.queue.value_or("");
      const int has_state = f.state ? 1 : 0, has_queue = f.queue ? 1 : 0;
      const long long limit = f.limit == 0 ? std::numeric_limits<long long>::max() : static_cast<long long>(f.limit);
      const long long offset = static_cast<long long>(f.offset);
      select_rows(
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

  state_counts counts() {
    return run([&](leased& l) {
      state_counts c{};
      select_rows(
          l.sql, "SELECT state, COUNT(*) FROM jobs GROUP BY state", [](soci::statement&) {},
          [&](const soci::row& r) {
            if (auto s = parse_job_state(detail::row_text(r, 0)))
              at(c, *s) = static_cast<std::size_t>(detail::row_int(r, 1));
          });
      return c;
    });
  }

  std::map<std::string, state_counts> counts_by_queue() {
    return run([&](leased& l) {
      std::map<std::string, state_counts> out;
      select_rows(
          l.sql, "SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state", [](soci::statement&) {},
          [&](const soci::row& r) {
            if (auto s = parse_job_state(detail::row_text(r, 1)))
              at(out[detail::row_text(r, 0)], *s) = static_cast<std::size_t>(detail::row_int(r, 2));
          });
      return out;
    });
  }

  std::map<std::string, std::size_t> waiting_by_executor() {
    return run([&](leased& l) {
      std::map<std::string, std::size_t> out;
      select_rows(
          l.sql, "SELECT executor, COUNT(*) FROM jobs WHERE state IN ('pending', 'failed') GROUP BY executor",
          [](soci::statement&) {},
          [&](const soci::row& r) { out[detail::row_text(r, 0)] = static_cast<std::size_t>(detail::row_int(r, 1)); });
      return out;
    });
  }

  std::vector<attempt_record> attempts(std::string_view id) {
    return run([&](leased& l) {
      std::vector<attempt_record> out;
      const std::string i(id);
      select_rows(
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

  std::size_t purge(const purge_filter& f) {
    return run([&](leased& l) {
      txn tx(l.sql);
      std::size_t total = 0;
      const long long before = f.updated_before ? db(*f.updated_before) : std::numeric_limits<long long>::max();
      for (job_state s : f.states) {
        if (!is_final(s)) continue;
        const std::string st(to_string(s));
        l.sql << "DELETE FROM attempts WHERE job_id IN (SELECT id FROM jobs WHERE state = :s AND updated_at < :b)",
            soci::use(st), soci::use(before);
        soci::statement del(l.sql);
        one_time(del, "DELETE FROM jobs WHERE state = :s AND updated_at < :b", soci::use(st, "s"),
                 soci::use(before, "b"));
        del.execute(true);
        total += static_cast<std::size_t>(del.get_affected_rows());
      }
      tx.commit();
      return total;
    });
  }

  std::optional<std::string> get_config(std::string_view key) {
    return run([&](leased& l) -> std::optional<std::string> {
      const std::string k(key);
      std::string v;
      soci::indicator ind = soci::i_null;
      l.sql << "SELECT value FROM config WHERE key = :k", soci::use(k), soci::into(v, ind);
      if (!l.sql.got_data() || ind == soci::i_null) return std::nullopt;
      return v;
    });
  }
  void set_config(std::string_view key, std::string_view value) {
    run([&](leased& l) {
      const std::string k(key), v(value);
      l.sql << "INSERT INTO config(key, value) VALUES(:k, :v) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          soci::use(k), soci::use(v);
    });
  }
  void set_config_entries(const std::map<std::string, std::string>& entries) {
    if (entries.empty()) return;
    run([&](leased& l) {
      txn tx(l.sql);
      for (const auto& [key, value] : entries)
        l.sql << "INSERT INTO config(key, value) VALUES(:k, :v) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            soci::use(key), soci::use(value);
      tx.commit();
    });
  }
  std::map<std::string, std::string> config_entries() {
    return run([&](leased& l) {
      std::map<std::string, std::string> out;
      select_rows(
          l.sql, "SELECT key, value FROM config", [](soci::statement&) {},
          [&](const soci::row& r) { out.emplace(detail::row_text(r, 0), detail::row_text(r, 1)); });
      return out;
    });
  }
  void reset_config() {
    run([&](leased& l) { l.sql << "DELETE FROM config"; });
  }

  void upsert_worker(const worker_info& w) {
    run([&](leased& l) {
      const long long pid = w.pid, started = db(w.started_at), beat = db(w.heartbeat_at);
      const int slots = w.slots;
      const std::string executors = w.executors ? detail::names_to_json(*w.executors) : std::string();
      soci::indicator executors_ind = w.executors ? soci::i_ok : soci::i_null;
      l.sql << "INSERT INTO workers(id, hostname, pid, slots, started_at, heartbeat_at, executors) "
               "VALUES(:id, :h, :p, :s, :st, :hb, :ex) "
               "ON CONFLICT(id) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid, slots = excluded.slots, "
               "heartbeat_at = excluded.heartbeat_at, executors = excluded.executors",
          soci::use(w.id), soci::use(w.hostname), soci::use(pid), soci::use(slots), soci::use(started), soci::use(beat),
          soci::use(executors, executors_ind);
    });
  }
  void remove_worker(std::string_view id) {
    run([&](leased& l) {
      const std::string i(id);
      l.sql << "DELETE FROM workers WHERE id = :id", soci::use(i);
    });
  }
  std::vector<worker_info> workers() {
    return run([&](leased& l) {
      std::vector<worker_info> out;
      select_rows(
          l.sql, std::string("SELECT ") + detail::worker_columns + " FROM workers ORDER BY started_at",
          [](soci::statement&) {},
          [&](const soci::row& r) {
            out.push_back(detail::worker_from_row(r, [this](long long ms) { return local(ms); }));
          });
      return out;
    });
  }

  attempt_stats stats(std::optional<time_point> since) {
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
      select_rows(l.sql, std::string("SELECT finished_at - started_at") + where, bind,
                  [&](const soci::row& r) { durations.push_back(static_cast<double>(detail::row_int(r, 0))); });
      if (durations.empty()) return s;
      select_rows(
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

  /// The claim query's plan, for tests and diagnostics (`EXPLAIN`), for a claimer of
  /// the executors `executors` (nullopt: any).
  std::vector<std::string> claim_query_plan(const std::optional<std::vector<std::string>>& executors = std::nullopt) {
    return run([&](leased& l) {
      std::vector<std::string> out;
      const long long n = db(queuectl::now()), lim = 1;
      const int any_executor = executors ? 0 : 1;
      const std::string names = executors ? detail::names_to_json(*executors) : "[]";
      select_rows(
          l.sql,
          std::string("EXPLAIN SELECT seq FROM jobs WHERE state IN ('pending', 'failed') AND run_at <= :now") +
              executor_filter + " ORDER BY priority DESC, run_at, seq LIMIT :lim FOR UPDATE SKIP LOCKED",
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

 private:
  /// Statements of the hot paths, prepared once per connection and re-executed with new
  /// values in their bound variables.
  struct hot {
    std::string id, owner, state, outcome, error, output, executors = "[]";
    long long now = 0, until = 0, run_at = 0, limit = 1, count = 0, notified = 0;
    int failed = 0, exit_code = 0, any_executor = 1;
    soci::indicator exit_code_ind = soci::i_null;
    soci::row row;
    std::unique_ptr<soci::statement> claim, finish, renew;
  };
  struct slot {
    bool open = false;
    std::unique_ptr<hot> h;
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
    hot& statements() {
      slot& s = state();
      if (!s.h) s.h = self.prepare_hot(sql);
      return *s.h;
    }
  };

  /// BEGIN … COMMIT, rolled back if not committed (e.g. on a throw).
  struct txn {
    soci::session& sql;
    bool done = false;
    explicit txn(soci::session& s) : sql(s) { sql << "BEGIN"; }
    void commit() {
      sql << "COMMIT";
      done = true;
    }
    ~txn() {
      if (!done) {
        try {
          sql << "ROLLBACK";
        } catch (...) {  // the connection may be gone: the server rolls back by itself
        }
      }
    }
  };

  static postgresql_options with_pool(std::size_t n) {
    postgresql_options o;
    o.pool_size = n;
    return o;
  }

  /// libpq accepts URLs and keyword strings, but SOCI 4.0.3 re-splits the string on spaces
  /// and mangles a URL: parse it with libpq and hand SOCI `key='value'` pairs. Bad strings
  /// fail here, at once, with libpq's reason.
  static std::string keyword_form(const std::string& connection) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(connection.c_str(), &err);
    if (opts == nullptr) {
      std::string why = err ? err : "out of memory";
      if (err) PQfreemem(err);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.connection", "bad connection string: " + why);
    }
    std::string out, bad;
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      const std::string v = o->val;
      if (v.find_first_of(" \t\r\n\f\v") != std::string::npos) bad = o->keyword;
      if (!out.empty()) out += ' ';
      out += o->keyword;
      out += "='";
      for (char c : v) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      out += '\'';
    }
    PQconninfoFree(opts);
    if (!bad.empty())
      throw error(error_kind::invalid_input, "queuectl.storage.postgresql.connection",
                  "connection option '" + bad +
                      "' contains a space, which SOCI 4.0.3 cannot pass on"
                      " (a password can come from PGPASSWORD or ~/.pgpass instead)");
    return out;
  }

  static bool valid_identifier(const std::string& s) {
    if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
  }

  long long off() const noexcept { return off_.load(std::memory_order_relaxed); }
  long long db(time_point t) const noexcept { return to_ms(t) + off(); }
  time_point local(long long ms) const noexcept { return from_ms(ms - off()); }
  job to_local(job j) const {
    j.run_at = local(to_ms(j.run_at));
    j.created_at = local(to_ms(j.created_at));
    j.updated_at = local(to_ms(j.updated_at));
    if (j.lease_expires_at) j.lease_expires_at = local(to_ms(*j.lease_expires_at));
    return j;
  }

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
          maybe_sync_clock(l.sql);
          return f(l);
        } catch (const error&) {
          throw;
        } catch (const soci::soci_error& e) {
          const auto kind = classify(l.sql, e, opening);
          // A session that failed while opening may lack its search_path: never keep it.
          if (opening || kind == failure::connection) discard(l);
          if (kind == failure::permanent) throw translate(e);
          why = message(e);
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

  enum class failure { permanent, connection, retry_same_connection };

  static std::string message(const soci::soci_error& e) {
    std::string what = e.get_error_message();
    if (what.empty()) what = e.what();
    for (char& c : what)
      if (c == '\n') c = ' ';
    return what;
  }

  /// "… ERROR:  permission denied for schema q LINE 1: …" -> "permission denied for schema q".
  static std::string server_reason(std::string what) {
    if (const auto p = what.find("ERROR:"); p != std::string::npos) what.erase(0, what.find_first_not_of(' ', p + 6));
    if (const auto p = what.find(" LINE "); p != std::string::npos) what.erase(p);
    while (!what.empty() && what.back() == ' ') what.pop_back();
    return what;
  }

  static error translate(const soci::soci_error& e) {
    if (auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
      const std::string state = pe->sqlstate();
      if (state == "22021" || state == "22P05" || state == "54000")
        return error(error_kind::invalid_input, "queuectl.storage.postgresql.value", message(e));
    }
    return error(error_kind::storage, "queuectl.storage.postgresql", message(e));
  }

  static failure classify(soci::session& sql, const soci::soci_error& e, bool opening) {
    const std::string what = e.what();
    if (opening) {  // a refused or dropped connection is transient; bad credentials are not
      for (const char* transient : {"Connection refused", "could not connect", "starting up", "shutting down",
                                    "in recovery", "timeout expired", "closed the connection", "too many clients",
                                    "No such file or directory", "Network is unreachable", "Connection reset"})
        if (what.find(transient) != std::string::npos) return failure::connection;
      return failure::permanent;
    }
    std::string state;
    if (auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e)) state = pe->sqlstate();
    if (state == "40001" || state == "40P01") return failure::retry_same_connection;
    if (e.get_error_category() == soci::soci_error::connection_error || state.rfind("08", 0) == 0 || state == "57P01" ||
        state == "57P02" || state == "57P03")
      return failure::connection;
    auto* be = static_cast<soci::postgresql_session_backend*>(sql.get_backend());
    if (be == nullptr || be->conn_ == nullptr || PQstatus(be->conn_) != CONNECTION_OK) return failure::connection;
    return failure::permanent;
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

  /// Keeps the offset between the callers' clock and the database's right (detail::db_clock):
  /// measures it (best of three by round trip) when the storage opens, every clock_resync,
  /// and at once when the wall clock stepped — detected on every operation by comparing
  /// it with the database time carried forward by the monotonic clock since the last
  /// measurement. Between measurements the offset stays put, so times round-trip exactly.
  void maybe_sync_clock(soci::session& sql) {
    {
      std::lock_guard lock(clock_mu_);
      if (clock_.synced()) {
        const long long steady_ns = monotonic_ns();
        if (clock_.check(to_ms(opts_.local_clock()), steady_ns)) {  // stepped: follow now, confirm soon
          off_.store(clock_.offset_ms());
          resync_due_ = true;
        }
        const bool periodic = opts_.clock_resync.count() > 0 && steady_ns >= next_sync_ns_;
        if (syncing_ || !(periodic || resync_due_)) return;
      }
      syncing_ = true;  // this thread measures; the others carry on with the current offset
    }
    struct done_guard {
      postgresql_storage& s;
      ~done_guard() {
        std::lock_guard lock(s.clock_mu_);
        s.syncing_ = false;
      }
    } done{*this};
    long long best_rtt_ns = std::numeric_limits<long long>::max(), best_db = 0, best_local = 0, best_mid = 0;
    for (int i = 0; i < 3; ++i) {
      const long long local_ms = to_ms(opts_.local_clock());
      const long long start_ns = monotonic_ns();
      long long db_ms = 0;
      sql << "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)", soci::into(db_ms);
      const long long rtt_ns = monotonic_ns() - start_ns;
      if (rtt_ns < best_rtt_ns) {
        best_rtt_ns = rtt_ns;
        best_db = db_ms;
        best_local = local_ms + rtt_ns / 2000000;  // the wall clock when the server read its own
        best_mid = start_ns + rtt_ns / 2;
      }
    }
    std::lock_guard lock(clock_mu_);
    clock_.measured(best_db, best_local, best_mid, std::max<long long>(20, best_rtt_ns / 1000000));
    off_.store(clock_.offset_ms());
    next_sync_ns_ = monotonic_ns() + std::chrono::nanoseconds(opts_.clock_resync).count();
    resync_due_ = false;
  }

  long long monotonic_ns() const {
    const auto t = opts_.monotonic_clock ? opts_.monotonic_clock() : std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  void send_notify(soci::session& sql) {
    std::string ignored;
    sql << "SELECT CAST(pg_notify(:ch, '') AS TEXT)", soci::use(opts_.channel), soci::into(ignored);
  }

  template <class... Uses>
  static void one_time(soci::statement& st, const std::string& text, Uses&&... uses) {
    st.alloc();
    st.prepare(text, soci::details::st_one_time_query);
    (st.exchange(std::forward<Uses>(uses)), ...);
    st.define_and_bind();
  }

  /// Runs a query once (no server-side prepare) and calls `each` for every row.
  template <class Bind, class Each>
  static void select_rows(soci::session& sql, const std::string& text, Bind&& bind, Each&& each) {
    soci::statement st(sql);
    st.alloc();
    st.prepare(text, soci::details::st_one_time_query);
    bind(st);
    soci::row r;
    st.exchange(soci::into(r));
    st.define_and_bind();
    if (st.execute(true)) {
      do each(static_cast<const soci::row&>(r));
      while (st.fetch());
    }
  }

  void close_running_attempt(soci::session& sql, const std::string& id, long long t, attempt_outcome o,
                             const std::string& why) {
    const std::string outcome(to_string(o));
    sql << "UPDATE attempts SET finished_at = :t, outcome = :o, error = :e WHERE job_id = :id AND outcome = 'running'",
        soci::use(t), soci::use(outcome), soci::use(why), soci::use(id);
  }

  /// Rows of one INSERT statement: a batch up to this size is one statement (its values
  /// travel as 16 array parameters, whatever the row count).
  static constexpr std::size_t insert_chunk_rows = 10000;

  /// Inserts jobs[from, from + n) in one statement: each column is one array parameter and
  /// `unnest` turns the arrays back into rows, in batch order (WITH ORDINALITY), so the
  /// seq numbers follow the batch. Throws the duplicate_id conflict naming the first id
  /// that was not stored; the caller's transaction then rolls the whole batch back.
  void insert_chunk(soci::session& sql, const std::vector<job>& jobs, std::size_t from, std::size_t n) {
    enum : std::size_t { c_id, c_command, c_executor, c_payload, c_queue, c_state, c_attempts, c_recoveries,
                         c_max_retries, c_priority, c_run_at, c_timeout, c_env, c_cwd, c_created_at, c_updated_at, columns };
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
    static const char* const types[columns] = {"text", "text", "text", "text", "text", "text", "integer", "integer",
                                               "integer", "integer", "bigint", "double precision", "text", "text",
                                               "bigint", "bigint"};
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

  /// Only jobs of the claimer's executors (:anyex = 1: any; :ex a JSON array of names).
  /// ARRAY(…) is computed once per statement (an InitPlan), then tested on each row the
  /// claim index yields, in claim order.
  static constexpr const char* executor_filter =
      " AND (:anyex = 1 OR executor = ANY(ARRAY(SELECT json_array_elements_text(CAST(:ex AS json)))))";

  static std::string claim_sql(const std::string& queue_filter) {
    return std::string(
               "WITH claimed AS (UPDATE jobs SET state = 'processing', attempts = attempts + 1, "
               "attempt_seq = attempt_seq + 1, lease_owner = :owner, lease_expires_at = :until, updated_at = :now "
               "WHERE seq IN (SELECT seq FROM jobs WHERE state IN ('pending', 'failed') AND run_at <= :now") +
           executor_filter + queue_filter +
           " ORDER BY priority DESC, run_at, seq LIMIT :lim FOR UPDATE SKIP LOCKED) "
           "AND state IN ('pending', 'failed') RETURNING " +
           detail::job_columns +
           ", attempt_seq), "
           "opened AS (INSERT INTO attempts(job_id, number, worker, started_at, outcome) "
           "SELECT id, attempt_seq, :owner, :now, 'running' FROM claimed) "
           "SELECT " +
           detail::job_columns + " FROM claimed";
  }

  std::unique_ptr<soci::statement> prepare(soci::session& sql, const std::string& text) {
    auto st = std::make_unique<soci::statement>(sql);
    st->alloc();
    st->prepare(text);
    return st;
  }

  std::unique_ptr<hot> prepare_hot(soci::session& sql) {
    auto h = std::make_unique<hot>();
    h->claim = prepare(sql, claim_sql(""));
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
    h->finish = prepare(
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
    h->finish->exchange(soci::use(opts_.channel, "ch"));
    h->finish->exchange(soci::into(h->count));
    h->finish->exchange(soci::into(h->notified));
    h->finish->define_and_bind();
    h->renew = prepare(
        sql, "UPDATE jobs SET lease_expires_at = :u WHERE id = :id AND state = 'processing' AND lease_owner = :o");
    h->renew->exchange(soci::use(h->until, "u"));
    h->renew->exchange(soci::use(h->id, "id"));
    h->renew->exchange(soci::use(h->owner, "o"));
    h->renew->define_and_bind();
    return h;
  }

  /// The schema version recorded in the database; 0 when there is no schema yet. Only
  /// reads, so a role without CREATE rights can run it. The catalog is asked by schema
  /// name, not through the session's search_path: that is resolved once per transaction,
  /// and a schema another host created meanwhile (hosts opening a new database at once)
  /// would stay invisible until the next one.
  int recorded_version(soci::session& sql) const {
    const std::string schema = opts_.schema;
    int tables = 0;
    sql << "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = 'schema_version' "
           "AND schemaname = COALESCE(NULLIF(:s, ''), current_schema())",
        soci::use(schema), soci::into(tables);
    if (tables == 0) return 0;
    int version = 0;
    soci::indicator ind = soci::i_null;
    const std::string table = schema.empty() ? "schema_version" : "\"" + schema + "\".schema_version";
    sql << "SELECT MAX(version) FROM " + table, soci::into(version, ind);
    return ind == soci::i_null ? 0 : version;
  }

  void refuse_newer(int version) const {
    if (version > schema_version)
      throw error(error_kind::storage, "queuectl.storage.schema_too_new",
                  "the database has schema version " + std::to_string(version) + "; this queuectl understands up to " +
                      std::to_string(schema_version) + ": upgrade queuectl");
  }

  /// Checks the schema version first and runs DDL only when a migration is due, so the
  /// least-privilege role of docs/deploy.md (SELECT, INSERT, UPDATE, DELETE) can open a
  /// database its owner created or upgraded (`queuectl migrate`).
  void migrate(soci::session& sql) {
    const int found = recorded_version(sql);
    refuse_newer(found);
    if (found == schema_version) return;
    try {
      upgrade(sql);
    } catch (const soci::soci_error& e) {
      auto* pe = dynamic_cast<const soci::postgresql_soci_error*>(&e);
      if (pe == nullptr || pe->sqlstate() != "42501") throw;  // insufficient_privilege only
      throw error(error_kind::storage, "queuectl.storage.migration_needed",
                  "the database schema is at version " + std::to_string(found) + " and this queuectl needs version " +
                      std::to_string(schema_version) + ", but this role may not change it (" +
                      server_reason(message(e)) + "): run `queuectl migrate` once as the schema's owner");
    }
  }

  /// Creates or upgrades the schema, one version step at a time. Hosts starting together
  /// serialize on an advisory lock (per schema), so the DDL never races.
  void upgrade(soci::session& sql) {
    txn tx(sql);
    const std::string schema = opts_.schema;
    int locked = 0;
    sql << "SELECT 1 FROM (SELECT pg_advisory_xact_lock(:cls, hashtext(COALESCE(NULLIF(:s, ''), current_schema())))) x",
        soci::use(lock_class), soci::use(schema), soci::into(locked);
    const int version = recorded_version(sql);  // again, under the lock: another host may have migrated
    refuse_newer(version);
    if (version == schema_version) return;  // rolled back: nothing was written
    if (!schema.empty()) {  // CREATE SCHEMA needs CREATE on the database even when the schema exists
      int exists = 0;
      sql << "SELECT COUNT(*) FROM pg_namespace WHERE nspname = :s", soci::use(schema), soci::into(exists);
      if (exists == 0) sql << "CREATE SCHEMA \"" + schema + "\"";
    }
    sql << "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)";
    if (version < 1) {
      sql << "CREATE TABLE IF NOT EXISTS jobs("
             "seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE, command TEXT NOT NULL, "
             "executor TEXT NOT NULL, payload TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL, "
             "attempts INTEGER NOT NULL DEFAULT 0, recoveries INTEGER NOT NULL DEFAULT 0, "
             "attempt_seq INTEGER NOT NULL DEFAULT 0, max_retries INTEGER NOT NULL, priority INTEGER NOT NULL, "
             "run_at BIGINT NOT NULL, timeout DOUBLE PRECISION NOT NULL, env TEXT NOT NULL, cwd TEXT NOT NULL, "
             "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '', "
             "exit_code INTEGER, lease_owner TEXT NOT NULL DEFAULT '', lease_expires_at BIGINT)";
      // Only claimable jobs are in the claim index, in claim order: finished history does
      // not slow claims down and no sort is needed.
      sql << "CREATE INDEX IF NOT EXISTS jobs_claim ON jobs(priority DESC, run_at, seq) WHERE state IN ('pending', "
             "'failed')";
      sql << "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, seq)";
      sql << "CREATE INDEX IF NOT EXISTS jobs_queue ON jobs(queue, seq)";
      sql << "CREATE INDEX IF NOT EXISTS jobs_lease ON jobs(lease_expires_at) WHERE state = 'processing'";
      sql << "CREATE INDEX IF NOT EXISTS jobs_updated ON jobs(state, updated_at)";
      sql << "CREATE TABLE IF NOT EXISTS attempts(job_id TEXT NOT NULL, number INTEGER NOT NULL, worker TEXT NOT NULL, "
             "started_at BIGINT NOT NULL, finished_at BIGINT, outcome TEXT NOT NULL, exit_code INTEGER, "
             "output TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', PRIMARY KEY(job_id, number))";
      sql << "CREATE INDEX IF NOT EXISTS attempts_finished ON attempts(finished_at) WHERE finished_at IS NOT NULL";
      sql << "CREATE TABLE IF NOT EXISTS config(key TEXT PRIMARY KEY, value TEXT NOT NULL)";
      sql << "CREATE TABLE IF NOT EXISTS workers(id TEXT PRIMARY KEY, hostname TEXT NOT NULL, pid BIGINT NOT NULL, "
             "slots INTEGER NOT NULL, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)";
      const int v = 1;
      sql << "INSERT INTO schema_version(version) VALUES(:v)", soci::use(v);
    }
    if (version < 2) {  // executor-aware claims: workers record the executors they claim for (NULL: any)
      sql << "ALTER TABLE workers ADD COLUMN IF NOT EXISTS executors TEXT";
      const int v = 2;
      sql << "INSERT INTO schema_version(version) VALUES(:v)", soci::use(v);
    }
    if (version < 3) {  // sequential job ids (config job-ids): the last number given, per counter
      sql << "CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value BIGINT NOT NULL)";
      sql << "INSERT INTO counters(name, value) VALUES('job-ids', 0) ON CONFLICT (name) DO NOTHING";
      const int v = 3;
      sql << "INSERT INTO schema_version(version) VALUES(:v)", soci::use(v);
    }
    tx.commit();
  }

  static constexpr int lock_class = 0x71756575;  // 'queu': first key of the migration advisory lock

  std::string conn_;       // as given (for listeners)
  std::string soci_conn_;  // keyword form handed to SOCI
  postgresql_options opts_;
  std::atomic<long long> off_{0};  // clock_.offset_ms(), readable without the mutex
  std::mutex clock_mu_;            // guards the members below
  detail::db_clock clock_;
  long long next_sync_ns_ = 0;
  bool resync_due_ = false;
  bool syncing_ = false;
  std::unique_ptr<soci::connection_pool> pool_;
  std::vector<slot> slots_;  // after pool_: destroyed first
};

static_assert(storage_policy<postgresql_storage>);

}  // namespace queuectl
