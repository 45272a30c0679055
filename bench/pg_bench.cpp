// PostgreSQL storage benchmarks, each against a baseline measured in the same run on the
// same server (so the same synchronous_commit and fsync settings):
//  (a) claim+complete through basic_queue<postgresql_storage, …, noop_executor>, one worker,
//      vs the same two statements driven raw through libpq (prepared, PQexecPrepared)
//                                                                        (target >= 0.9)
//  (b) the same with 4 workers (threads; the queue's pool of 4 vs 4 raw connections)
//  (c) bulk enqueue through basic_queue vs raw multi-row INSERT, batches of 1000
// Each side gets its own schema with the storage's tables and indexes. (a) and (b) take
// turns in slices of 100 jobs, so both sides meet the same WAL flushes and the same noise
// of a shared 2-core machine; (c) reports the best of `rounds`.
//   pg_bench URL [jobs=10000] [rounds=3] [sections=abc]   (bench/pg_bench.sh starts a server)
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "queuectl/executor/function_executor.hpp"
#include "queuectl/pg_queue.hpp"

namespace {

using steady = std::chrono::steady_clock;
using queue = queuectl::pg_queue<queuectl::noop_executor>;

double since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "pg_bench: %s\n", what.c_str());
  std::exit(1);
}

queuectl::postgresql_options opts(const std::string& schema, std::size_t pool = 4) {
  queuectl::postgresql_options o;
  o.schema = schema;
  o.pool_size = pool;
  return o;
}

std::vector<queuectl::job_spec> specs(int n, const std::string& prefix) {
  std::vector<queuectl::job_spec> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    out[static_cast<std::size_t>(i)].id = prefix + std::to_string(i);
    out[static_cast<std::size_t>(i)].command = "true";
  }
  return out;
}

void enqueue_all(queue& q, const std::vector<queuectl::job_spec>& all) {
  for (std::size_t i = 0; i < all.size(); i += 1000)
    q.enqueue(std::vector<queuectl::job_spec>(all.begin() + static_cast<long>(i),
                                              all.begin() + static_cast<long>(std::min(all.size(), i + 1000))));
}

/// Columns postgresql_storage reads back (detail::job_columns).
const std::string cols =
    "id, command, executor, payload, queue, state, attempts, recoveries, max_retries, priority, run_at, timeout, "
    "env, cwd, created_at, updated_at, last_error, exit_code, lease_owner, lease_expires_at, seq";

/// The storage's claim and finish statements, numbered for libpq.
const std::string claim_sql =
    "WITH claimed AS (UPDATE jobs SET state = 'processing', attempts = attempts + 1, attempt_seq = attempt_seq + 1, "
    "lease_owner = $1, lease_expires_at = $2, updated_at = $3 WHERE seq IN (SELECT seq FROM jobs WHERE state IN "
    "('pending', 'failed') AND run_at <= $3 ORDER BY priority DESC, run_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
    "AND state IN ('pending', 'failed') RETURNING " +
    cols +
    ", attempt_seq), "
    "opened AS (INSERT INTO attempts(job_id, number, worker, started_at, outcome) "
    "SELECT id, attempt_seq, $1, $3, 'running' FROM claimed) SELECT " +
    cols + " FROM claimed";
const std::string finish_sql =
    "WITH f AS (UPDATE jobs SET state = $1, updated_at = $2, last_error = $3, exit_code = $4, lease_owner = '', "
    "lease_expires_at = NULL, run_at = CASE WHEN $5 = 1 THEN $6 ELSE run_at END "
    "WHERE id = $7 AND state = 'processing' AND lease_owner = $8 RETURNING id), "
    "a AS (UPDATE attempts SET finished_at = $2, outcome = $9, exit_code = $4, output = $10, error = $3 "
    "FROM f WHERE attempts.job_id = f.id AND attempts.outcome = 'running') SELECT COUNT(*) FROM f";

/// One raw libpq connection running exactly the storage's claim and finish.
struct raw_conn {
  PGconn* c;
  raw_conn(const std::string& url, const std::string& schema) : c(PQconnectdb(url.c_str())) {
    if (PQstatus(c) != CONNECTION_OK) die(PQerrorMessage(c));
    exec("SET search_path TO " + schema);
    prepare("claim", claim_sql, 4);
    prepare("finish", finish_sql, 10);
  }
  ~raw_conn() { PQfinish(c); }
  void exec(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) die(PQresultErrorMessage(r));
    PQclear(r);
  }
  void prepare(const char* name, const std::string& sql, int n) {
    PGresult* r = PQprepare(c, name, sql.c_str(), n, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) die(PQresultErrorMessage(r));
    PQclear(r);
  }
  /// Claims one job and completes it; false when none is due.
  bool claim_complete(const std::string& owner) {
    const long long now = queuectl::to_ms(queuectl::now());
    const std::string until = std::to_string(now + 30000), t = std::to_string(now);
    const char* cp[] = {owner.c_str(), until.c_str(), t.c_str(), "1"};
    PGresult* r = PQexecPrepared(c, "claim", 4, cp, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) die(PQresultErrorMessage(r));
    if (PQntuples(r) == 0) {
      PQclear(r);
      return false;
    }
    std::vector<std::string> row;  // read the row, as the storage does
    for (int k = 0; k < PQnfields(r); ++k) row.emplace_back(PQgetvalue(r, 0, k), PQgetlength(r, 0, k));
    PQclear(r);
    const std::string done = std::to_string(queuectl::to_ms(queuectl::now()));
    const char* fp[] = {"completed",    done.c_str(),  "",          nullptr, "0", "0",
                        row[0].c_str(), owner.c_str(), "succeeded", ""};
    r = PQexecPrepared(c, "finish", 10, fp, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || std::string(PQgetvalue(r, 0, 0)) != "1") die("raw finish failed");
    PQclear(r);
    return true;
  }
};

/// Runs `fn(worker)` `k` times over `workers` threads; returns the seconds it took.
template <class F>
double run_slice(int k, int workers, F&& fn) {
  std::atomic<int> left{k};
  auto loop = [&](int w) {
    while (left.fetch_sub(1) > 0)
      if (!fn(w)) die("the queue ran dry early");
  };
  const auto t0 = steady::now();
  if (workers == 1) {
    loop(0);
  } else {
    std::vector<std::thread> ts;
    for (int w = 0; w < workers; ++w) ts.emplace_back(loop, w);
    for (auto& t : ts) t.join();
  }
  return since(t0);
}

/// Raw bulk insert: a multi-row INSERT … VALUES … ON CONFLICT DO NOTHING RETURNING id and
/// pg_notify, in one transaction per batch (the storage sends column arrays through unnest).
double raw_bulk(const std::string& url, const std::string& schema, int n) {
  raw_conn rc(url, schema);
  const auto t0 = steady::now();
  for (int from = 0; from < n; from += 1000) {
    const int m = std::min(1000, n - from);
    const long long now = queuectl::to_ms(queuectl::now());
    std::string sql =
        "INSERT INTO jobs(id, command, executor, payload, queue, state, attempts, recoveries, max_retries, priority, "
        "run_at, timeout, env, cwd, created_at, updated_at) VALUES";
    std::vector<std::string> vals;
    vals.reserve(static_cast<std::size_t>(m) * 16);
    for (int i = 0; i < m; ++i) {
      sql += i ? ", (" : " (";
      for (int c = 0; c < 16; ++c) sql += (c ? ", $" : "$") + std::to_string(i * 16 + c + 1);
      sql += ")";
      const std::string t = std::to_string(now);
      for (const std::string& v :
           {"raw-" + std::to_string(from + i), std::string("true"), std::string("shell"), std::string("{}"),
            std::string("default"), std::string("pending"), std::string("0"), std::string("0"), std::string("3"),
            std::string("0"), t, std::string("0"), std::string("{}"), std::string(""), t, t})
        vals.push_back(v);
    }
    sql += " ON CONFLICT (id) DO NOTHING RETURNING id";
    std::vector<const char*> p;
    for (const auto& v : vals) p.push_back(v.c_str());
    rc.exec("BEGIN");
    PGresult* r = PQexecParams(rc.c, sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != m) die(PQresultErrorMessage(r));
    PQclear(r);
    rc.exec("SELECT pg_notify('queuectl_jobs', '')");
    rc.exec("COMMIT");
  }
  return n / since(t0);
}

void drop_schemas(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  PQclear(PQexec(c, "DROP SCHEMA IF EXISTS bench_queue CASCADE"));
  PQclear(PQexec(c, "DROP SCHEMA IF EXISTS bench_raw CASCADE"));
  PQfinish(c);
}

std::string setting(const std::string& url, const char* name) {
  PGconn* c = PQconnectdb(url.c_str());
  const char* v = PQparameterStatus(c, name);
  std::string out = v ? v : "";
  if (out.empty()) {
    PGresult* r = PQexec(c, (std::string("SHOW ") + name).c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK) out = PQgetvalue(r, 0, 0);
    PQclear(r);
  }
  PQfinish(c);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_url = std::getenv("QUEUECTL_TEST_PG_URL");
  std::string url = argc > 1 ? argv[1] : "";
  if (url.empty() && env_url != nullptr) url = env_url;
  if (url.empty()) die("usage: pg_bench URL [jobs] [rounds]   (or run bench/pg_bench.sh)");
  const int n = argc > 2 ? std::atoi(argv[2]) : 10000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  const std::string sections = argc > 4 ? argv[4] : "abc";
  auto wanted = [&](char c) { return sections.find(c) != std::string::npos; };
  std::printf("PostgreSQL %s, synchronous_commit=%s, fsync=%s; %d jobs x %d rounds\n",
              setting(url, "server_version").c_str(), setting(url, "synchronous_commit").c_str(),
              setting(url, "fsync").c_str(), n, rounds);

  struct result {
    double ours = 0, raw = 0;
  };
  // The two sides take turns in slices of 100 jobs, so both meet the same disk flushes
  // and the same load from whatever else runs on the machine.
  auto claim_complete = [&](int workers) {
    double t_ours = 0, t_raw = 0;
    long done = 0;
    std::vector<std::string> owners;
    for (int w = 0; w < workers; ++w) owners.push_back("w" + std::to_string(w));
    for (int round = 0; round < rounds; ++round) {
      drop_schemas(url);
      {
        queue setup(queuectl::noop_executor{}, {}, url, opts("bench_raw", 1));  // same schema, same rows
        enqueue_all(setup, specs(n, "j"));
      }
      queue q(queuectl::noop_executor{}, {}, url, opts("bench_queue", 4));
      enqueue_all(q, specs(n, "j"));
      std::vector<std::unique_ptr<raw_conn>> conns;
      for (int w = 0; w < workers; ++w) conns.push_back(std::make_unique<raw_conn>(url, "bench_raw"));
      auto ours = [&](int w) { return q.run_once(owners[static_cast<std::size_t>(w)]); };
      auto raw = [&](int w) {
        return conns[static_cast<std::size_t>(w)]->claim_complete(owners[static_cast<std::size_t>(w)]);
      };
      for (int left = n, turn = 0; left > 0; ++turn) {
        const int k = std::min(100, left);
        if (turn % 2 == 0) {
          t_ours += run_slice(k, workers, ours);
          t_raw += run_slice(k, workers, raw);
        } else {
          t_raw += run_slice(k, workers, raw);
          t_ours += run_slice(k, workers, ours);
        }
        left -= k;
      }
      done += n;
      if (q.run_once("check") || conns[0]->claim_complete("check")) die("jobs left over");
    }
    return result{static_cast<double>(done) / t_ours, static_cast<double>(done) / t_raw};
  };

  if (wanted('a')) {
    const result a = claim_complete(1);
    std::printf("(a) claim+complete, one worker\n");
    std::printf("    raw libpq, same SQL:          %8.0f jobs/s\n", a.raw);
    std::printf("    basic_queue (SOCI, pool):     %8.0f jobs/s\n", a.ours);
    std::printf("    ratio: %.2f (target >= 0.9)\n", a.ours / a.raw);
    std::fflush(stdout);
  }
  if (wanted('b')) {
    const result b = claim_complete(4);
    std::printf("(b) claim+complete, 4 workers\n");
    std::printf("    raw libpq, 4 connections:     %8.0f jobs/s\n", b.raw);
    std::printf("    basic_queue, pool of 4:       %8.0f jobs/s\n", b.ours);
    std::printf("    ratio: %.2f\n", b.ours / b.raw);
    std::fflush(stdout);
  }
  if (!wanted('c')) return 0;

  result c;
  const int bulk = n * 2;
  for (int round = 0; round < rounds; ++round) {
    drop_schemas(url);
    {
      queue q(queuectl::noop_executor{}, {}, url, opts("bench_queue", 1));
      const auto all = specs(bulk, "b");
      const auto t0 = steady::now();
      enqueue_all(q, all);
      c.ours = std::max(c.ours, bulk / since(t0));
    }
    { queue setup(queuectl::noop_executor{}, {}, url, opts("bench_raw", 1)); }
    c.raw = std::max(c.raw, raw_bulk(url, "bench_raw", bulk));
  }
  drop_schemas(url);
  std::printf("(c) bulk enqueue, %d jobs in batches of 1000\n", bulk);
  std::printf("    raw multi-row INSERT:         %8.0f jobs/s\n", c.raw);
  std::printf("    basic_queue (SOCI):           %8.0f jobs/s\n", c.ours);
  std::printf("    ratio: %.2f\n", c.ours / c.raw);
  return 0;
}
