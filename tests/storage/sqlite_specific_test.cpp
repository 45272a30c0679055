// What only the SQLite storage promises: the claim is served by its index, the file is
// private, reopening is idempotent, and several processes sharing one file never run a
// job twice.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "printers.hpp"
#include "queuectl/executor/function_executor.hpp"
#include "queuectl/sqlite_queue.hpp"
#include "queuectl/storage/sqlite_storage.hpp"

using namespace queuectl;
using namespace std::chrono_literals;

namespace {
struct temp_dir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("qctl-sqlite-" + std::to_string(::getpid()));
  temp_dir() { std::filesystem::create_directories(path); }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

std::vector<job> many_jobs(int n) {
  std::vector<job> out;
  const time_point t = now() - 1s;
  for (int i = 0; i < n; ++i) {
    job j;
    j.id = "job-" + std::to_string(i);
    j.command = "true";
    j.run_at = j.created_at = j.updated_at = t;
    out.push_back(std::move(j));
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_specific)

BOOST_AUTO_TEST_CASE(claim_is_served_by_the_claim_index) {
  temp_dir d;
  sqlite_storage s((d.path / "q.db").string());
  std::string plan;
  for (const auto& line : s.claim_query_plan()) plan += line + "\n";
  BOOST_TEST_MESSAGE(plan);
  BOOST_TEST(plan.find("INDEX jobs_claim") != std::string::npos, plan);
  BOOST_TEST(plan.find("TEMP B-TREE") == std::string::npos, plan);  // no sort: the index is in claim order
  // A host's claim names its executors: still the claim index, in claim order. (The index
  // ends with `executor`, so the bytecode tests it on the index entry; SQLite defers the
  // table seek — `DeferredSeek` — and never makes it for this query.)
  plan.clear();
  for (const auto& line : s.claim_query_plan(std::vector<std::string>{"shell", "http"})) plan += line + "\n";
  BOOST_TEST_MESSAGE(plan);
  BOOST_TEST(plan.find("INDEX jobs_claim") != std::string::npos, plan);
  BOOST_TEST(plan.find("TEMP B-TREE FOR ORDER BY") == std::string::npos, plan);
}

// A database of schema version 1 (before executor-aware claims) is upgraded on open: the
// workers table gains `executors`, the claim index gains `executor`, nothing is lost.
BOOST_AUTO_TEST_CASE(a_version_1_database_is_upgraded_on_open) {
  temp_dir d;
  const std::string db = (d.path / "v1.db").string();
  {
    soci::session sql(soci::sqlite3, "db=" + db);
    sql << "CREATE TABLE schema_version(version INTEGER NOT NULL)";
    sql << "CREATE TABLE jobs(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, command TEXT NOT NULL, "
           "executor TEXT NOT NULL, payload TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL, "
           "attempts INTEGER NOT NULL DEFAULT 0, recoveries INTEGER NOT NULL DEFAULT 0, "
           "attempt_seq INTEGER NOT NULL DEFAULT 0, max_retries INTEGER NOT NULL, priority INTEGER NOT NULL, "
           "run_at BIGINT NOT NULL, timeout REAL NOT NULL, env TEXT NOT NULL, cwd TEXT NOT NULL, "
           "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '', "
           "exit_code INTEGER, lease_owner TEXT NOT NULL DEFAULT '', lease_expires_at BIGINT)";
    sql << "CREATE INDEX jobs_claim ON jobs(priority DESC, run_at, seq) WHERE state IN ('pending', 'failed')";
    sql << "CREATE TABLE attempts(job_id TEXT NOT NULL, number INTEGER NOT NULL, worker TEXT NOT NULL, "
           "started_at BIGINT NOT NULL, finished_at BIGINT, outcome TEXT NOT NULL, exit_code INTEGER, "
           "output TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', PRIMARY KEY(job_id, number)) WITHOUT ROWID";
    sql << "CREATE TABLE config(key TEXT PRIMARY KEY, value TEXT NOT NULL)";
    sql << "CREATE TABLE workers(id TEXT PRIMARY KEY, hostname TEXT NOT NULL, pid BIGINT NOT NULL, "
           "slots INTEGER NOT NULL, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)";
    sql << "INSERT INTO schema_version(version) VALUES(1)";
    sql << "INSERT INTO jobs(id, command, executor, payload, queue, state, max_retries, priority, run_at, timeout, env, "
           "cwd, created_at, updated_at) VALUES('old', 'true', 'http', '', 'default', 'pending', 3, 0, 0, 0, '{}', '', 0, 0)";
    sql << "INSERT INTO workers VALUES('old-host:1:a', 'old-host', 1, 2, 0, 0)";
    sql << "PRAGMA user_version = 1";
  }
  sqlite_storage s(db);
  BOOST_TEST(s.get("old")->executor == "http");
  const auto ws = s.workers();
  BOOST_REQUIRE(ws.size() == 1u);
  BOOST_TEST(!ws[0].executors.has_value());  // recorded before versions knew: any
  claim_request shell;
  shell.owner = "w";
  shell.now = now();
  shell.lease_until = shell.now + std::chrono::seconds(30);
  shell.executors = std::vector<std::string>{"shell"};
  BOOST_TEST(s.claim(shell).empty());
  shell.executors = std::vector<std::string>{"http"};
  BOOST_TEST(s.claim(shell).size() == 1u);
  std::string plan;
  for (const auto& line : s.claim_query_plan(std::vector<std::string>{"http"})) plan += line + "\n";
  BOOST_TEST(plan.find("INDEX jobs_claim") != std::string::npos, plan);
  int version = 0;
  soci::session sql(soci::sqlite3, "db=" + db);
  sql << "SELECT MAX(version) FROM schema_version", soci::into(version);
  BOOST_TEST(version == sqlite_storage::schema_version);
}

// A database written by the previous release (schema 3: the running attempt was a row of
// `attempts`, ended by an UPDATE) opens, migrates to the lean schema and keeps every
// fact: the file is tests/storage/fixtures/schema3.db, made by that release's code.
BOOST_AUTO_TEST_CASE(a_schema_3_database_from_the_previous_release_migrates_and_keeps_everything) {
  temp_dir d;
  const auto db = d.path / "schema3.db";
  std::filesystem::copy_file(QUEUECTL_STORAGE_FIXTURES "/schema3.db", db);
  const time_point t0 = from_ms(1767225600000);
  {
    sqlite_storage s(db.string());
    BOOST_TEST(s.get("done")->state == job_state::completed);
    BOOST_TEST(s.get("dead")->state == job_state::dead);
    BOOST_TEST(s.get("waiting")->state == job_state::pending);
    BOOST_TEST(s.get_config("max-retries").value_or("") == "5");
    BOOST_REQUIRE(s.workers().size() == 1u);
    BOOST_TEST(s.workers()[0].id == "host-b");

    const auto done = s.attempts("done");
    BOOST_REQUIRE(done.size() == 1u);
    BOOST_TEST(done[0].output == "hi\n");
    BOOST_TEST(done[0].outcome == attempt_outcome::succeeded);

    // The running attempt was a row in schema 3; now it is read off the job row.
    auto running = s.attempts("running");
    BOOST_REQUIRE(running.size() == 1u);
    BOOST_TEST(running[0].outcome == attempt_outcome::running);
    BOOST_TEST(running[0].number == 1);
    BOOST_TEST(running[0].worker == "host-b");
    BOOST_TEST((running[0].started_at == t0 + 5s));
    BOOST_TEST(!running[0].finished_at.has_value());

    // ... and it ends through the new path with its start time intact.
    finish_request f;
    f.id = "running";
    f.owner = "host-b";
    f.now = t0 + 9s;
    f.output = "slept";
    BOOST_TEST(s.finish(f));
    running = s.attempts("running");
    BOOST_REQUIRE(running.size() == 1u);
    BOOST_TEST(running[0].outcome == attempt_outcome::succeeded);
    BOOST_TEST((running[0].started_at == t0 + 5s));
    BOOST_TEST((running[0].finished_at == std::optional<time_point>(t0 + 9s)));
    BOOST_TEST(running[0].output == "slept");
    BOOST_TEST(s.counts()[static_cast<std::size_t>(job_state::completed)] == 2u);
  }
  sqlite_storage again(db.string());  // reopening a migrated file changes nothing
  BOOST_TEST(again.attempts("running").size() == 1u);
  soci::session sql(soci::sqlite3, "db=" + db.string());
  int version = 0, header = 0, running_rows = -1, updated_index = -1;
  sql << "SELECT MAX(version) FROM schema_version", soci::into(version);
  sql << "PRAGMA user_version", soci::into(header);
  sql << "SELECT COUNT(*) FROM attempts WHERE outcome = 'running'", soci::into(running_rows);
  sql << "SELECT COUNT(*) FROM sqlite_master WHERE name = 'jobs_updated'", soci::into(updated_index);
  BOOST_TEST(version == sqlite_storage::schema_version);
  BOOST_TEST(header == sqlite_storage::schema_version);
  BOOST_TEST(running_rows == 0);
  BOOST_TEST(updated_index == 0);
}

// The running attempt of a claimed job is no row of `attempts` until it ends; every way it
// ends (finish, release, cancel, a lapsed lease) writes exactly one record, once.
BOOST_AUTO_TEST_CASE(every_way_an_attempt_ends_writes_its_record_once) {
  temp_dir d;
  sqlite_storage s((d.path / "q.db").string());
  s.insert(many_jobs(4));
  const time_point t = now();
  auto claim_one = [&](const std::string& owner) {
    claim_request r;
    r.owner = owner;
    r.now = t;
    r.lease_until = t + 30s;
    return s.claim(r).at(0).id;
  };
  const std::string finished = claim_one("a"), released = claim_one("a"), canceled = claim_one("a"), lost = claim_one("b");
  BOOST_TEST(!s.release(released, "someone-else", t));  // not its lease: nothing written
  BOOST_TEST(s.attempts(released).size() == 1u);
  BOOST_TEST(s.attempts(released)[0].outcome == attempt_outcome::running);
  finish_request f;
  f.id = finished;
  f.owner = "b";  // not the owner
  f.now = t;
  BOOST_TEST(!s.finish(f));
  f.owner = "a";
  BOOST_TEST(s.finish(f));
  BOOST_TEST(!s.finish(f));  // twice: the second is refused and writes nothing
  BOOST_TEST(s.release(released, "a", t));
  BOOST_TEST(s.cancel(canceled, t));
  const auto r = reclaim_lapsed(s, t + 31s, 5);
  BOOST_TEST(r.requeued == 1u);
  const std::pair<std::string, attempt_outcome> expected[] = {{finished, attempt_outcome::succeeded},
                                                               {released, attempt_outcome::released},
                                                               {canceled, attempt_outcome::canceled},
                                                               {lost, attempt_outcome::lost}};
  for (const auto& [id, outcome] : expected) {
    const auto a = s.attempts(id);
    BOOST_REQUIRE_MESSAGE(a.size() == 1u, id);
    BOOST_TEST((a[0].outcome == outcome), id);
    BOOST_TEST(a[0].finished_at.has_value(), id);
  }
  BOOST_TEST(s.attempts(lost)[0].worker == "b");
}

BOOST_AUTO_TEST_CASE(database_file_is_private_and_reopen_is_idempotent) {
  temp_dir d;
  const auto db = d.path / "sub" / "q.db";
  { sqlite_storage s(db.string()); }
  struct stat st {};
  BOOST_REQUIRE(::stat(db.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_REQUIRE(::stat(db.parent_path().c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0700u);
  {
    sqlite_storage s(db.string());
    s.insert(many_jobs(3));
  }
  sqlite_storage again(db.string());  // migrations already applied: nothing is recreated
  BOOST_TEST(again.list({}).size() == 3u);
}

BOOST_AUTO_TEST_CASE(exactly_once_across_two_processes_of_four_threads) {
  temp_dir d;
  const auto db = (d.path / "q.db").string();
  constexpr int jobs = 10000, procs = 2, threads = 4;
  {
    sqlite_storage s(db);
    s.insert(many_jobs(jobs));
  }
  std::vector<pid_t> children;
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = ::fork();  // no threads exist yet in this process
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      int rc = 0;
      std::vector<std::thread> ts;
      for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
          try {
            sqlite_storage s(db);  // one connection per thread
            std::ofstream out(d.path / ("claimed-" + std::to_string(p) + "-" + std::to_string(t)));
            const std::string owner = "p" + std::to_string(p) + "t" + std::to_string(t);
            while (true) {
              claim_request req;
              req.owner = owner;
              req.max_jobs = 1 + (t % 3);
              req.now = now();
              req.lease_until = req.now + 60s;
              const auto got = s.claim(req);
              if (got.empty()) break;
              for (const auto& j : got) {
                finish_request f;
                f.id = j.id;
                f.owner = owner;
                f.state = job_state::completed;
                f.now = now();
                if (!s.finish(f)) rc = 1;
                out << j.id << "\n";
              }
            }
          } catch (const std::exception& e) {
            std::fprintf(stderr, "child %d thread %d: %s\n", p, t, e.what());
            rc = 1;
          }
        });
      for (auto& t : ts) t.join();
      ::_exit(rc);
    }
    children.push_back(pid);
  }
  for (pid_t c : children) {
    int status = 0;
    ::waitpid(c, &status, 0);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  std::multiset<std::string> claimed;
  for (const auto& f : std::filesystem::directory_iterator(d.path)) {
    if (f.path().filename().string().rfind("claimed-", 0) != 0) continue;
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) claimed.insert(line);
  }
  BOOST_TEST(claimed.size() == static_cast<std::size_t>(jobs));  // none twice…
  BOOST_TEST(std::set<std::string>(claimed.begin(), claimed.end()).size() == static_cast<std::size_t>(jobs));
  sqlite_storage s(db);
  const auto c = s.counts();
  BOOST_TEST(at(c, job_state::completed) == static_cast<std::size_t>(jobs));  // …none left
  list_filter lf;
  lf.limit = 0;
  for (const auto& j : s.list(lf)) BOOST_TEST_REQUIRE(j.attempts == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(make_sqlite_queue_opens_the_file_and_runs_jobs) {
  temp_dir d;
  const std::string db = (d.path / "made.db").string();
  {
    auto q = make_sqlite_queue(db, noop_executor{});
    static_assert(std::is_same_v<decltype(q), sqlite_queue<noop_executor>>);
    q.enqueue(job_spec{.id = "a", .command = "x"});
    BOOST_TEST(q.run_once("w"));
  }
  auto again = make_sqlite_queue(db, noop_executor{}, exponential_backoff{}, sqlite_options{.read_only = true});
  BOOST_TEST((again.get("a").state == job_state::completed));
}
