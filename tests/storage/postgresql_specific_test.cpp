// What only the PostgreSQL storage promises: the claim is served by its partial index, hosts
// starting together migrate once, several processes never run a job twice, a host's clock
// does not matter (the database's does), listeners hear enqueues, and a server restart or
// outage is waited out. Run through tests/support/pg_server.sh, which starts a throw-away
// server and sets QUEUECTL_TEST_PG_URL and QUEUECTL_TEST_PG_CTL.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>

#include "printers.hpp"
#include "queuectl/executor/function_executor.hpp"
#include "queuectl/pg_queue.hpp"

using namespace queuectl;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    throw std::runtime_error(std::string(name) + " is not set: run this test through tests/support/pg_server.sh run");
  return v;
}
std::string url() { return env("QUEUECTL_TEST_PG_URL"); }

/// Runs `pg_server.sh ctl DIR <action>` on the test server (restart, stop, start).
bool pg_ctl_ok(const std::string& action) {
  const std::string cmd = env("QUEUECTL_TEST_PG_CTL") + " " + action;
  return std::system(cmd.c_str()) == 0;
}
void pg_ctl(const std::string& action) {
  BOOST_TEST_MESSAGE("pg_ctl " << action);
  BOOST_REQUIRE_MESSAGE(pg_ctl_ok(action), "pg_ctl " << action);
}

/// A schema for one test, dropped at the end.
struct schema_guard {
  std::string name;
  explicit schema_guard(const std::string& what) : name("qctl_" + what + "_" + std::to_string(::getpid())) { drop(); }
  ~schema_guard() { drop(); }
  void drop() {
    try {
      soci::session sql(soci::postgresql, postgresql_storage::soci_connection_string(url()));
      sql << "SET client_min_messages = warning";
      sql << "DROP SCHEMA IF EXISTS " + name + " CASCADE";
    } catch (const std::exception& e) {
      BOOST_TEST_MESSAGE("dropping " << name << ": " << e.what());
    }
  }
  postgresql_options options(std::size_t pool = 4) const {
    postgresql_options o;
    o.pool_size = pool;
    o.schema = name;
    return o;
  }
  /// A plain session on the schema, for looking at what the storage wrote.
  std::unique_ptr<soci::session> session() const {
    auto s = std::make_unique<soci::session>(soci::postgresql, postgresql_storage::soci_connection_string(url()));
    *s << "SET search_path TO " + name;
    return s;
  }
};

long long db_now_ms(soci::session& sql) {
  long long t = 0;
  sql << "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)", soci::into(t);
  return t;
}

job make_job(const std::string& id, time_point run_at, job_state state = job_state::pending) {
  job j;
  j.id = id;
  j.command = "true";
  j.state = state;
  j.run_at = run_at;
  j.created_at = j.updated_at = now();
  return j;
}

std::vector<job> many_jobs(int n, const std::string& prefix = "job-", job_state state = job_state::pending) {
  std::vector<job> out;
  const time_point t = now() - 1s;
  for (int i = 0; i < n; ++i) out.push_back(make_job(prefix + std::to_string(i), t, state));
  return out;
}

claim_request claim_at(const std::string& owner, time_point t, std::size_t n = 10) {
  claim_request r;
  r.owner = owner;
  r.max_jobs = n;
  r.now = t;
  r.lease_until = t + 30s;
  return r;
}

std::vector<std::string> ids(const std::vector<job>& js) {
  std::vector<std::string> out;
  for (const auto& j : js) out.push_back(j.id);
  return out;
}

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(postgresql_specific)

BOOST_AUTO_TEST_CASE(claim_is_served_by_the_partial_index) {
  schema_guard g("plan");
  postgresql_storage s(url(), g.options());
  s.insert(many_jobs(20000, "done-", job_state::completed));  // history, several insert chunks
  s.insert(many_jobs(2000));
  *g.session() << "ANALYZE jobs";
  std::string plan;
  for (const auto& line : s.claim_query_plan()) plan += line + "\n";
  BOOST_TEST_MESSAGE(plan);
  BOOST_TEST(plan.find("jobs_claim") != std::string::npos, plan);
  BOOST_TEST(plan.find("Sort") == std::string::npos, plan);  // the index is in claim order
  BOOST_TEST(plan.find("Seq Scan") == std::string::npos, plan);
  // A host's claim names its executors: the same index, in the same order.
  plan.clear();
  for (const auto& line : s.claim_query_plan(std::vector<std::string>{"shell", "http"})) plan += line + "\n";
  BOOST_TEST_MESSAGE(plan);
  BOOST_TEST(plan.find("jobs_claim") != std::string::npos, plan);
  BOOST_TEST(plan.find("Sort") == std::string::npos, plan);
  BOOST_TEST(plan.find("Seq Scan") == std::string::npos, plan);
  BOOST_TEST(at(s.counts(), job_state::pending) == 2000u);
}

BOOST_AUTO_TEST_CASE(duplicate_in_a_later_chunk_rejects_the_whole_batch) {
  schema_guard g("dup");
  postgresql_storage s(url(), g.options());
  auto batch = many_jobs(2500);
  batch[2200].id = batch[5].id;  // third chunk of 1000 repeats an id of the first
  BOOST_CHECK_EXCEPTION(s.insert(batch), error, [](const error& e) {
    return e.kind() == error_kind::conflict && e.message().find("job-5") != std::string::npos;
  });
  BOOST_TEST(s.list({}).empty());
}

// A batch is one INSERT of column arrays (unnest): every value must survive the array
// literal — quotes, backslashes, braces, commas, the word NULL, empty and multi-byte text,
// exact doubles, negative and 64-bit numbers.
BOOST_AUTO_TEST_CASE(bulk_insert_round_trips_every_value) {
  schema_guard g("bulkvalues");
  postgresql_storage s(url(), g.options());
  const std::vector<std::string> awkward{"",  "NULL", "null", "\"quoted\"", "back\\slash\\", "{braces}", "a,b",
                                         " padded ", "line\nbreak\ttab", "é ü 日本 🎉", "'single'", "\\\"", "}{,\""};
  std::vector<job> batch;
  const time_point t = now() - 1s;
  for (std::size_t i = 0; i < awkward.size(); ++i) {
    job j = make_job("odd-" + std::to_string(i), t - std::chrono::milliseconds(i));
    j.command = awkward[i];
    j.executor = "shell" + awkward[i];
    j.payload = "{\"v\":\"" + std::to_string(i) + "\"}" + awkward[i];
    j.queue = "q" + awkward[i];
    j.cwd = awkward[i];
    j.env = {{"K" + std::to_string(i), awkward[i]}, {"\"", "\\"}};
    j.priority = -static_cast<int>(i) * 1000;
    j.max_retries = static_cast<int>(i);
    j.timeout = i == 0 ? 0.1 : i == 1 ? 1e-300 : 12345.678901234567 * static_cast<double>(i);
    batch.push_back(j);
  }
  s.insert(batch);
  for (const job& want : batch) {
    const auto got = s.get(want.id);
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST(got->command == want.command);
    BOOST_TEST(got->executor == want.executor);
    BOOST_TEST(got->payload == want.payload);
    BOOST_TEST(got->queue == want.queue);
    BOOST_TEST(got->cwd == want.cwd);
    BOOST_TEST((got->env == want.env));
    BOOST_TEST(got->priority == want.priority);
    BOOST_TEST(got->max_retries == want.max_retries);
    BOOST_TEST(got->timeout == want.timeout);  // exact, not close
    BOOST_TEST((got->run_at == want.run_at));
    BOOST_TEST((got->created_at == want.created_at));
    BOOST_TEST(got->state == job_state::pending);
  }
}

BOOST_AUTO_TEST_CASE(bulk_insert_keeps_batch_order_and_rejects_bad_text) {
  schema_guard g("bulkorder");
  postgresql_storage s(url(), g.options());
  std::vector<job> batch;
  for (int i = 0; i < 3000; ++i) batch.push_back(make_job("id-" + std::to_string((i * 7919) % 3000), now() - 1s));
  s.insert(batch);
  list_filter all;
  all.limit = 0;
  BOOST_TEST(ids(s.list(all)) == ids(batch), boost::test_tools::per_element());  // seq follows the batch
  // Invalid UTF-8 fails the whole batch as invalid input, as a single-row insert does.
  std::vector<job> bad{make_job("fine", now()), make_job("broken", now())};
  bad[1].command = "\xff\xfe";
  BOOST_CHECK_EXCEPTION(s.insert(bad), error, [](const error& e) { return e.kind() == error_kind::invalid_input; });
  BOOST_TEST(!s.get("fine").has_value());
}

BOOST_AUTO_TEST_CASE(duplicate_past_one_statement_rejects_the_whole_batch) {
  schema_guard g("dupbig");
  postgresql_storage s(url(), g.options());
  auto batch = many_jobs(10500);  // two statements of 10000 rows at most
  batch[10200].id = batch[5].id;
  BOOST_CHECK_EXCEPTION(s.insert(batch), error, [](const error& e) {
    return e.kind() == error_kind::conflict && e.id() == "queuectl.storage.duplicate_id" &&
           e.message().find("job-5") != std::string::npos;
  });
  BOOST_TEST(s.list({}).empty());
  s.insert(many_jobs(10));
  BOOST_CHECK_EXCEPTION(s.insert({make_job("new", now()), make_job("job-3", now())}), error, [](const error& e) {
    return e.kind() == error_kind::conflict && e.id() == "queuectl.storage.duplicate_id" &&
           e.message().find("'job-3'") != std::string::npos;
  });
  BOOST_TEST(!s.get("new").has_value());
}

BOOST_AUTO_TEST_CASE(large_payloads_are_cut_into_several_statements) {
  schema_guard g("bulkbytes");
  postgresql_storage s(url(), g.options());
  auto batch = many_jobs(40);  // 40 MB of payloads: more than one statement's worth
  for (auto& j : batch) j.payload = std::string(1 << 20, 'p');
  batch[35].id = batch[2].id;  // a duplicate in a later statement still rejects everything
  BOOST_CHECK_EXCEPTION(s.insert(batch), error, [](const error& e) {
    return e.kind() == error_kind::conflict && e.message().find("job-2") != std::string::npos;
  });
  BOOST_TEST(s.list({}).empty());
  batch[35].id = "job-35";
  s.insert(batch);
  list_filter all;
  all.limit = 0;
  const auto got = s.list(all);
  BOOST_TEST(ids(got) == ids(batch), boost::test_tools::per_element());
  BOOST_TEST(got[39].payload.size() == std::size_t(1) << 20);
}

BOOST_AUTO_TEST_CASE(insert_sequential_takes_numbers_in_blocks_and_skips_used_ones) {
  schema_guard g("seqblock");
  postgresql_storage s(url(), g.options());
  s.insert({make_job("job2", now()), make_job("job3", now()), make_job("job6", now())});  // by hand
  std::vector<job> batch(5, make_job("", now()));
  batch[1].id = "job4";  // the batch names one itself
  s.insert_sequential(batch);
  BOOST_TEST(ids(batch) == (std::vector<std::string>{"job1", "job4", "job5", "job7", "job8"}),
             boost::test_tools::per_element());
  std::vector<job> next(1, make_job("", now()));
  s.insert_sequential(next);
  BOOST_TEST(next[0].id == "job9");  // the counter ended at the last number given
  BOOST_TEST(s.list({}).size() == 9u);
}

BOOST_AUTO_TEST_CASE(url_and_keyword_connection_strings_and_concurrent_first_open) {
  schema_guard g("open");
  // Four hosts opening a new database at once: the advisory lock makes one migrate.
  std::vector<std::future<void>> opens;
  for (int i = 0; i < 4; ++i)
    opens.push_back(std::async(std::launch::async, [&] { postgresql_storage s(url(), g.options(1)); }));
  for (auto& f : opens) BOOST_CHECK_NO_THROW(f.get());
  int versions = 0;
  *g.session() << "SELECT COUNT(*) FROM schema_version", soci::into(versions);
  BOOST_TEST(versions == postgresql_storage::schema_version);  // one row per version step, each once

  // The same database through a keyword connection string.
  const std::string u = url();  // postgresql://USER@HOST:PORT/DB
  const auto at_ = u.find('@'), colon = u.rfind(':'), slash = u.rfind('/');
  const std::string keywords =
      "host=" + u.substr(at_ + 1, colon - at_ - 1) + " port=" + u.substr(colon + 1, slash - colon - 1) +
      " user=" + u.substr(u.find("//") + 2, at_ - u.find("//") - 2) + " dbname=" + u.substr(slash + 1);
  postgresql_storage by_url(url(), g.options());
  postgresql_storage by_keywords(keywords, g.options());
  by_url.insert(many_jobs(1));
  BOOST_TEST(by_keywords.get("job-0").has_value());
}

BOOST_AUTO_TEST_CASE(genuine_errors_throw_at_once) {
  const std::string u = url();
  const auto t0 = steady::now();
  BOOST_CHECK_EXCEPTION(postgresql_storage(u.substr(0, u.rfind('/')) + "/no_such_database"), error,
                        [](const error& e) { return e.kind() == error_kind::storage; });
  BOOST_TEST(seconds_since(t0) < 5.0);  // not retried for the whole budget
  schema_guard g("err");
  postgresql_storage s(url(), g.options());
  s.insert(many_jobs(1));
  BOOST_CHECK_EXCEPTION(s.insert(many_jobs(1)), error, [](const error& e) { return e.kind() == error_kind::conflict; });
  s.insert({make_job("next", now())});  // the pooled session is usable after the rollback
  BOOST_TEST(s.list({}).size() == 2u);
}

BOOST_AUTO_TEST_CASE(exactly_once_across_two_processes_of_four_threads) {
  schema_guard g("once");
  const auto dir = std::filesystem::temp_directory_path() / ("qctl-pg-once-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  constexpr int jobs = 5000, procs = 2, threads = 4;
  {
    postgresql_storage s(url(), g.options());
    s.insert(many_jobs(jobs));
  }  // no connection is open across fork()
  std::vector<pid_t> children;
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = ::fork();  // no threads exist yet in this process
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      std::atomic<int> rc{0};
      try {
        postgresql_storage s(url(), g.options(threads));  // one pool shared by the threads
        std::vector<std::thread> ts;
        for (int t = 0; t < threads; ++t)
          ts.emplace_back([&, t] {
            try {
              std::ofstream out(dir / ("claimed-" + std::to_string(p) + "-" + std::to_string(t)));
              const std::string owner = "p" + std::to_string(p) + "t" + std::to_string(t);
              while (true) {
                const auto got = s.claim(claim_at(owner, now(), 1 + static_cast<std::size_t>(t % 3)));
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
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", p, e.what());
        rc = 1;
      }
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
  std::size_t per_process[procs] = {};
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const int p = f.path().filename().string()[std::string("claimed-").size()] - '0';
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) {
      claimed.insert(line);
      ++per_process[p];
    }
  }
  std::filesystem::remove_all(dir);
  BOOST_TEST_MESSAGE("claimed per process: " << per_process[0] << ", " << per_process[1]);
  for (std::size_t n : per_process) BOOST_TEST(n > 0u);          // both really competed
  BOOST_TEST(claimed.size() == static_cast<std::size_t>(jobs));  // none twice…
  BOOST_TEST(std::set<std::string>(claimed.begin(), claimed.end()).size() == static_cast<std::size_t>(jobs));
  postgresql_storage s(url(), g.options());
  BOOST_TEST(at(s.counts(), job_state::completed) == static_cast<std::size_t>(jobs));  // …none left
  int attempts = 0, max_attempts = 0;
  *g.session() << "SELECT COUNT(*), MAX(attempts) FROM attempts JOIN jobs ON jobs.id = attempts.job_id",
      soci::into(attempts), soci::into(max_attempts);
  BOOST_TEST(attempts == jobs);
  BOOST_TEST(max_attempts == 1);
}

BOOST_AUTO_TEST_CASE(a_host_clock_an_hour_off_does_not_matter) {
  schema_guard g("skew");
  auto sql = g.session();
  postgresql_storage honest(url(), g.options());
  auto fast_opts = g.options(), slow_opts = g.options();
  fast_opts.local_clock = [] { return now() + 1h; };  // this host's clock is an hour ahead…
  slow_opts.local_clock = [] { return now() - 1h; };  // …and this one's an hour behind
  postgresql_storage fast(url(), fast_opts), slow(url(), slow_opts);
  BOOST_TEST(std::abs((fast.clock_offset() + 1h).count()) < 2000);
  BOOST_TEST(std::abs((slow.clock_offset() - 1h).count()) < 2000);

  honest.insert({make_job("due", now() - 1s), make_job("later", now() + 30min), make_job("slow-due", now() - 1s)});

  // The fast host passes its own `now`, an hour ahead: "later" is not due by the database
  // clock, and the lease it takes runs 30 s from the database's now, not from its own.
  auto got = fast.claim(claim_at("fast", now() + 1h));
  BOOST_TEST(ids(got) == (std::vector<std::string>{"due", "slow-due"}), boost::test_tools::per_element());
  long long lease_left = 0;
  *sql << "SELECT lease_expires_at FROM jobs WHERE id = 'due'", soci::into(lease_left);
  lease_left -= db_now_ms(*sql);
  BOOST_TEST_MESSAGE("lease left by the database clock: " << lease_left << " ms");
  BOOST_TEST((lease_left > 25000 && lease_left <= 30500));
  // Every host reads the lease on its own clock, 30 s ahead.
  const auto honest_left = *honest.get("due")->lease_expires_at - now();
  BOOST_TEST((honest_left > 25s && honest_left <= 31s));
  const auto slow_left = *slow.get("due")->lease_expires_at - (now() - 1h);
  BOOST_TEST((slow_left > 25s && slow_left <= 31s));
  // Nobody thinks the lease lapsed: not the honest host, not the fast one (to whom a naive
  // comparison of its own clock would show it lapsed an hour ago).
  BOOST_TEST(reclaim_lapsed(honest, now(), 3).requeued == 0u);
  BOOST_TEST(reclaim_lapsed(fast, now() + 1h, 3).requeued == 0u);
  BOOST_TEST(reclaim_lapsed(slow, now() - 1h, 3).requeued == 0u);

  // The slow host hands back; a due job is due for it too although its clock says an hour earlier.
  BOOST_TEST(fast.release("slow-due", "fast", now() + 1h));
  got = slow.claim(claim_at("slow", now() - 1h));
  BOOST_TEST(ids(got) == std::vector<std::string>{"slow-due"}, boost::test_tools::per_element());
  BOOST_TEST(reclaim_lapsed(fast, now() + 1h, 3).requeued == 0u);
  // Once the database clock passes the lease, any host reclaims it.
  BOOST_TEST(honest.renew_lease("slow-due", "slow", now() - 1s));
  BOOST_TEST(reclaim_lapsed(slow, now() - 1h, 3).requeued == 1u);
  BOOST_TEST(honest.get("slow-due")->state == job_state::pending);
}

// Issue 9 item 15: stepping one host's wall clock must not move anybody's leases. Before,
// the storage added the offset measured at the last resync (every 60 s) to the wall clock:
// after a +120 s step host A saw host B's healthy leases as lapsed and wrote 125 s leases;
// after a -120 s step nothing was due for A and its leases lay in the past.
BOOST_AUTO_TEST_CASE(a_wall_clock_step_is_followed_at_once) {
  schema_guard g("step");
  auto sql = g.session();
  std::atomic<long long> step_ms{0};
  auto stepping = g.options();
  stepping.local_clock = [&] { return now() + milliseconds(step_ms.load()); };  // host A's wall clock
  postgresql_storage a(url(), stepping), b(url(), g.options());  // b: host B, clock right
  BOOST_TEST(std::abs(a.clock_offset().count()) < 1000);

  b.insert({make_job("b1", now() - 1s), make_job("b2", now() - 1s), make_job("a1", now() - 1s),
            make_job("a2", now() - 1s)});
  auto b_claim = claim_at("host-b", now(), 2);
  b_claim.lease_until = now() + 5s;
  BOOST_REQUIRE(b.claim(b_claim).size() == 2u);

  step_ms = 120000;  // A's clock jumps two minutes ahead
  const auto a_now = [&] { return now() + milliseconds(step_ms.load()); };
  BOOST_TEST(reclaim_lapsed(a, a_now(), 3).requeued == 0u);  // B's 5 s leases are not lapsed
  BOOST_TEST(std::abs((a.clock_offset() + 120s).count()) < 1000);
  auto a_claim = claim_at("host-a", a_now(), 1);
  a_claim.lease_until = a_now() + 5s;
  BOOST_REQUIRE(a.claim(a_claim).size() == 1u);
  long long lease_ms = 0;
  *sql << "SELECT lease_expires_at - CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) FROM jobs "
          "WHERE lease_owner = 'host-a'",
      soci::into(lease_ms);
  BOOST_TEST_MESSAGE("A's lease after +120 s: " << lease_ms << " ms by the database clock");
  BOOST_TEST((lease_ms > 3000 && lease_ms <= 5500));

  step_ms = -120000;  // and now two minutes behind
  a_claim = claim_at("host-a2", a_now(), 1);
  a_claim.lease_until = a_now() + 5s;
  BOOST_REQUIRE(a.claim(a_claim).size() == 1u);  // the due job is due for A as well
  *sql << "SELECT lease_expires_at - CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) FROM jobs "
          "WHERE lease_owner = 'host-a2'",
      soci::into(lease_ms);
  BOOST_TEST_MESSAGE("A's lease after -120 s: " << lease_ms << " ms by the database clock");
  BOOST_TEST((lease_ms > 3000 && lease_ms <= 5500));  // not in the past
  BOOST_TEST(reclaim_lapsed(a, a_now(), 3).requeued == 0u);
  BOOST_TEST(reclaim_lapsed(b, now(), 3).requeued == 0u);
  // Times A reads back are on its own (stepped) clock again.
  const auto left = *a.get("b1")->lease_expires_at - a_now();
  BOOST_TEST((left > 2s && left <= 6s));
}

// Issue 9 item 17: the role docs/deploy.md recommends for hosts (SELECT, INSERT, UPDATE,
// DELETE on the tables) can open a schema its owner created. Before, every open ran
// `CREATE TABLE IF NOT EXISTS schema_version` and failed with "permission denied".
struct role_guard {
  std::string name = "qctl_app_" + std::to_string(::getpid());
  role_guard() { drop(); }
  ~role_guard() { drop(); }
  void drop() {
    try {
      soci::session sql(soci::postgresql, postgresql_storage::soci_connection_string(url()));
      sql << "SET client_min_messages = warning";
      int n = 0;
      sql << "SELECT COUNT(*) FROM pg_roles WHERE rolname = :r", soci::use(name), soci::into(n);
      if (n == 0) return;
      sql << "DROP OWNED BY " + name;
      sql << "DROP ROLE " + name;
    } catch (const std::exception& e) {
      BOOST_TEST_MESSAGE("dropping role " << name << ": " << e.what());
    }
  }
  /// The test server's URL with this role as the user.
  std::string url_as() const {
    const std::string u = url();
    const auto scheme = u.find("://") + 3, at = u.find('@');
    return u.substr(0, scheme) + name + u.substr(at);
  }
};

BOOST_AUTO_TEST_CASE(a_least_privilege_role_uses_a_schema_its_owner_migrated) {
  role_guard role;  // declared first: dropped after the schema
  schema_guard g("leastpriv");
  { postgresql_storage owner(url(), g.options()); }  // the owner creates the schema (or `queuectl migrate`)
  auto sql = g.session();
  *sql << "CREATE ROLE " + role.name + " LOGIN";
  *sql << "GRANT USAGE ON SCHEMA " + g.name + " TO " + role.name;
  *sql << "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + g.name + " TO " + role.name;

  {
    postgresql_storage app(role.url_as(), g.options());
    app.insert({make_job("j", now() - 1s)});
    auto got = app.claim(claim_at("app", now(), 1));
    BOOST_REQUIRE(got.size() == 1u);
    finish_request f;
    f.id = "j";
    f.owner = "app";
    f.state = job_state::completed;
    f.now = now();
    BOOST_TEST(app.finish(f));
    worker_info w;
    w.id = "app-host";
    w.executors = std::vector<std::string>{"shell"};
    app.upsert_worker(w);
    BOOST_TEST(app.workers().size() == 1u);
  }

  // A schema one version behind: the role cannot upgrade it and says who must.
  *sql << "DELETE FROM schema_version WHERE version = 3";
  *sql << "DROP TABLE counters";
  BOOST_CHECK_EXCEPTION(postgresql_storage(role.url_as(), g.options()), error, [](const error& e) {
    BOOST_TEST_MESSAGE(e.what());
    return e.id() == "queuectl.storage.migration_needed" &&
           std::string(e.what()).find("queuectl migrate") != std::string::npos;
  });
  { postgresql_storage owner(url(), g.options()); }  // what `queuectl migrate` does
  postgresql_storage app(role.url_as(), g.options());
  BOOST_TEST(app.get("j")->state == job_state::completed);
  int version = 0;
  *sql << "SELECT MAX(version) FROM schema_version", soci::into(version);
  BOOST_TEST(version == postgresql_storage::schema_version);
}

BOOST_AUTO_TEST_CASE(listener_hears_enqueue_and_retry_within_a_deadline) {
  schema_guard g("listen");
  pg_queue<noop_executor> q(noop_executor{}, {}, url(), g.options());
  postgresql_listener wake(url(), q.storage().notify_channel());
  BOOST_TEST(!wake.wait_for(200ms));  // nothing yet

  // Another "host" enqueues: the listener wakes well before its timeout.
  std::thread producer([&] {
    std::this_thread::sleep_for(300ms);
    postgresql_storage other(url(), g.options(1));
    other.insert(many_jobs(3));
  });
  auto t0 = steady::now();
  const bool woke = wake.wait_for(10s);
  producer.join();
  BOOST_TEST(woke);
  BOOST_TEST(seconds_since(t0) < 5.0);
  BOOST_TEST(!wake.wait_for(300ms));  // the three rows were one transaction: one wake-up, drained

  // A rolled-back enqueue (duplicate id) notifies nobody: NOTIFY is in the transaction.
  BOOST_CHECK_THROW(q.storage().insert(many_jobs(1)), error);
  BOOST_TEST(!wake.wait_for(300ms));

  // Retrying a dead job wakes listeners too.
  auto got = q.claim(1, "w");
  BOOST_REQUIRE(got.size() == 1u);
  finish_request f;
  f.id = got[0].id;
  f.owner = "w";
  f.state = job_state::dead;
  f.now = now();
  f.outcome = attempt_outcome::failed;
  BOOST_REQUIRE(q.storage().finish(f));
  BOOST_TEST(!wake.wait_for(100ms));
  q.retry_dead(got[0].id);
  t0 = steady::now();
  BOOST_TEST(wake.wait_for(10s));
  BOOST_TEST(seconds_since(t0) < 5.0);
}

BOOST_AUTO_TEST_CASE(finish_stores_any_output_bytes) {
  schema_guard g("bytes");
  postgresql_storage s(url(), g.options());
  s.insert(many_jobs(1));
  BOOST_REQUIRE(s.claim(claim_at("w", now())).size() == 1u);
  finish_request f;
  f.id = "job-0";
  f.owner = "w";
  f.state = job_state::completed;
  f.now = now();
  f.output = std::string("ok \xff\xfe bytes\0nul", 15) + "\xc3\xa9";
  BOOST_TEST(s.finish(f));
  const auto out = s.attempts("job-0").at(0).output;
  BOOST_TEST(out.find("ok ") == 0u);
  BOOST_TEST(out.find("\xc3\xa9") != std::string::npos);  // valid UTF-8 kept as is
}

BOOST_AUTO_TEST_CASE(operations_retry_across_a_server_restart) {
  schema_guard g("restart");
  postgresql_storage s(url(), g.options(2));
  postgresql_listener wake(url(), s.notify_channel());
  s.insert(many_jobs(10));
  BOOST_TEST(wake.wait_for(5s));
  pg_ctl("restart");  // every pooled connection is now dead
  BOOST_TEST(at(s.counts(), job_state::pending) == 10u);
  BOOST_TEST(s.claim(claim_at("w", now(), 2)).size() == 2u);
  BOOST_TEST(s.get("job-0")->state == job_state::processing);
  // The listener reconnects (and reports a wake-up: it may have missed some), then hears again.
  BOOST_TEST(wake.wait_for(10s));
  s.insert({make_job("after-restart", now())});
  BOOST_TEST(wake.wait_for(10s));
  BOOST_TEST(wake.connected());
}

BOOST_AUTO_TEST_CASE(an_outage_is_waited_out_then_the_budget_ends_it) {
  schema_guard g("outage");
  postgresql_storage s(url(), g.options(2));
  s.insert(many_jobs(5));
  pg_ctl("stop");
  bool restarted = false;
  std::thread restarter([&] {
    std::this_thread::sleep_for(2s);
    restarted = pg_ctl_ok("start");
  });
  const auto t0 = steady::now();
  state_counts c{};
  BOOST_CHECK_NO_THROW(c = s.counts());  // retries while the server is down
  const double waited = seconds_since(t0);
  restarter.join();
  BOOST_REQUIRE(restarted);
  BOOST_TEST_MESSAGE("counts() waited " << waited << " s for the server");
  BOOST_TEST(at(c, job_state::pending) == 5u);
  BOOST_TEST(waited > 1.0);

  // With a short budget an outage that outlasts it throws queuectl::error.
  auto short_budget = g.options(1);
  short_budget.retry_budget = 1500ms;
  postgresql_storage impatient(url(), short_budget);
  pg_ctl("stop");
  const auto t1 = steady::now();
  BOOST_CHECK_EXCEPTION(impatient.counts(), error, [](const error& e) {
    return e.kind() == error_kind::storage && e.id() == "queuectl.storage.postgresql.unavailable";
  });
  const double gave_up = seconds_since(t1);
  pg_ctl("start");
  BOOST_TEST((gave_up > 0.5 && gave_up < 5.0));
  BOOST_TEST(impatient.list({}).size() == 5u);  // and it recovers when the server is back
}

BOOST_AUTO_TEST_SUITE_END()
