// One contract, every storage: the same typed suite runs against memory_storage_mt and
// sqlite_storage, and — built with QUEUECTL_TEST_WITH_PG, run by tests/support/pg_server.sh
// with QUEUECTL_TEST_PG_URL set — postgresql_storage (each test in a fresh schema).
// A new storage policy passes this suite before it ships.
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "printers.hpp"
#include "queuectl/storage/any_storage.hpp"
#include "queuectl/storage/memory_storage.hpp"
#include "queuectl/storage/sqlite_storage.hpp"
#ifdef QUEUECTL_TEST_WITH_PG
#include "queuectl/storage/postgresql_storage.hpp"
#endif

using namespace queuectl;
using namespace std::chrono_literals;

namespace {

struct memory_fixture {
  memory_storage_mt s;
  memory_storage_mt& storage() { return s; }
  /// Another handle on the same queue (as another process would have): here the same object.
  std::shared_ptr<memory_storage_mt> other() { return {std::shared_ptr<void>(), &s}; }
};

struct sqlite_fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("qctl-contract-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
  std::unique_ptr<sqlite_storage> s = std::make_unique<sqlite_storage>((dir / "q.db").string());
  sqlite_storage& storage() { return *s; }
  /// A second connection to the same file, as another process has.
  std::shared_ptr<sqlite_storage> other() { return std::make_shared<sqlite_storage>((dir / "q.db").string()); }
  ~sqlite_fixture() {
    s.reset();
    std::filesystem::remove_all(dir);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

/// any_storage forwarding to SQLite: the apps' run-time-chosen storage meets the contract too.
struct any_sqlite_fixture {
  sqlite_fixture inner_dir;  // owns the directory; its storage object is unused
  any_storage s{std::make_unique<sqlite_storage>((inner_dir.dir / "any.db").string())};
  any_storage& storage() { return s; }
  std::shared_ptr<any_storage> other() {
    return std::make_shared<any_storage>(std::make_unique<sqlite_storage>((inner_dir.dir / "any.db").string()));
  }
};

#ifdef QUEUECTL_TEST_WITH_PG
/// A fresh schema per test in the server pg_server.sh started; dropped afterwards.
struct pg_fixture {
  static std::string url() {
    const char* u = std::getenv("QUEUECTL_TEST_PG_URL");
    if (u == nullptr || *u == '\0')
      throw std::runtime_error("QUEUECTL_TEST_PG_URL is not set: run this test through tests/support/pg_server.sh run");
    return u;
  }
  static postgresql_options options(std::string schema) {
    postgresql_options o;
    o.pool_size = 2;
    o.schema = std::move(schema);
    o.clock_resync = milliseconds(0);  // one offset for the whole test: times round-trip exactly
    return o;
  }
  std::string schema = "qctl_contract_" + std::to_string(::getpid()) + "_" + std::to_string(sqlite_fixture::counter()++);
  std::unique_ptr<postgresql_storage> s = std::make_unique<postgresql_storage>(url(), options(schema));
  postgresql_storage& storage() { return *s; }
  /// Another pool on the same schema, as another host has.
  std::shared_ptr<postgresql_storage> other() { return std::make_shared<postgresql_storage>(url(), options(schema)); }
  ~pg_fixture() {
    s.reset();
    try {
      soci::session sql(soci::postgresql, postgresql_storage::soci_connection_string(url()));
      sql << "SET client_min_messages = warning";
      sql << "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
    } catch (const std::exception& e) {
      BOOST_TEST_MESSAGE("dropping " << schema << ": " << e.what());
    }
  }
};
using fixtures = boost::mpl::list<memory_fixture, sqlite_fixture, any_sqlite_fixture, pg_fixture>;
#else
using fixtures = boost::mpl::list<memory_fixture, sqlite_fixture, any_sqlite_fixture>;
#endif

const time_point t0 = from_ms(1767225600000);  // 2026-01-01T00:00:00Z

job make_job(const std::string& id, int priority = 0, time_point run_at = t0) {
  job j;
  j.id = id;
  j.command = "echo " + id;
  j.priority = priority;
  j.run_at = run_at;
  j.created_at = t0;
  j.updated_at = t0;
  return j;
}

claim_request claim_of(std::string owner, std::size_t n, time_point now = t0 + 1s) {
  claim_request r;
  r.owner = std::move(owner);
  r.max_jobs = n;
  r.now = now;
  r.lease_until = now + 30s;
  return r;
}

finish_request finish_of(const std::string& id, const std::string& owner, job_state st, time_point now = t0 + 2s) {
  finish_request f;
  f.id = id;
  f.owner = owner;
  f.state = st;
  f.now = now;
  f.outcome = st == job_state::completed ? attempt_outcome::succeeded : attempt_outcome::failed;
  return f;
}

std::vector<std::string> ids(const std::vector<job>& js) {
  std::vector<std::string> out;
  for (const auto& j : js) out.push_back(j.id);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(storage_contract)

BOOST_AUTO_TEST_CASE_TEMPLATE(insert_get_round_trips_every_field, F, fixtures) {
  F f;
  job j = make_job("full", 7, t0 + 5s);
  j.executor = "http";
  j.payload = R"({"url":"http://x","n":[1,2]})";
  j.queue = "mail";
  j.max_retries = 9;
  j.timeout = 2.5;
  j.env = {{"A", "1"}, {"B", "two words"}};
  j.cwd = "/tmp";
  f.storage().insert({j});
  const auto got = f.storage().get("full");
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->command == j.command);
  BOOST_TEST(got->executor == "http");
  BOOST_TEST(got->payload == j.payload);
  BOOST_TEST(got->queue == "mail");
  BOOST_TEST(got->state == job_state::pending);
  BOOST_TEST(got->max_retries == 9);
  BOOST_TEST(got->priority == 7);
  BOOST_TEST((got->run_at == t0 + 5s));
  BOOST_TEST(got->timeout == 2.5);
  BOOST_TEST((got->env == j.env));
  BOOST_TEST(got->cwd == "/tmp");
  BOOST_TEST((got->created_at == t0));
  BOOST_TEST(!got->exit_code.has_value());
  BOOST_TEST(!got->lease_expires_at.has_value());
  BOOST_TEST(got->seq > 0);
  BOOST_TEST(!f.storage().get("missing").has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(duplicate_id_rejects_the_whole_batch, F, fixtures) {
  F f;
  f.storage().insert({make_job("a")});
  BOOST_CHECK_EXCEPTION(f.storage().insert({make_job("b"), make_job("a"), make_job("c")}), error,
                        [](const error& e) { return e.kind() == error_kind::conflict; });
  BOOST_CHECK_EXCEPTION(f.storage().insert({make_job("d"), make_job("d")}), error,
                        [](const error& e) { return e.kind() == error_kind::conflict; });
  BOOST_TEST(f.storage().list({}).size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_order_priority_then_run_at_then_fifo, F, fixtures) {
  F f;
  f.storage().insert({make_job("low-1"), make_job("high-late", 5, t0 + 500ms), make_job("high-early", 5, t0),
                      make_job("low-2"), make_job("future", 9, t0 + 1h)});
  const auto got = f.storage().claim(claim_of("w", 10));
  BOOST_TEST(ids(got) == (std::vector<std::string>{"high-early", "high-late", "low-1", "low-2"}),
             boost::test_tools::per_element());
  for (const auto& j : got) {
    BOOST_TEST(j.state == job_state::processing);
    BOOST_TEST(j.attempts == 1);
    BOOST_TEST(j.lease_owner == "w");
    BOOST_TEST((j.lease_expires_at == t0 + 31s));
  }
  BOOST_TEST(f.storage().claim(claim_of("w", 10)).empty());  // future job is not due
  BOOST_TEST(f.storage().claim(claim_of("w", 10, t0 + 2h)).size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_respects_max_and_queue_filter, F, fixtures) {
  F f;
  job a = make_job("a"), b = make_job("b"), c = make_job("c");
  b.queue = "mail";
  c.queue = "img";
  f.storage().insert({a, b, c});
  auto req = claim_of("w", 5);
  req.queues = {"mail", "img"};
  BOOST_TEST(ids(f.storage().claim(req)).size() == 2u);
  BOOST_TEST(ids(f.storage().claim(claim_of("w", 5))) == std::vector<std::string>{"a"}, boost::test_tools::per_element());
  f.storage().insert({make_job("x"), make_job("y"), make_job("z")});
  BOOST_TEST(f.storage().claim(claim_of("w", 2)).size() == 2u);
}

// Issue 9 item 2: a host claims only jobs whose executor it has; the others stay pending
// for a host that has theirs (before, a shell-only host claimed an http job and killed it).
BOOST_AUTO_TEST_CASE_TEMPLATE(claim_takes_only_jobs_of_the_claimers_executors, F, fixtures) {
  F f;
  job web = make_job("web", 9), shell = make_job("shell", 1), custom = make_job("custom", 5);
  web.executor = "http";
  custom.executor = "my-plugin";
  f.storage().insert({web, shell, custom});

  auto shell_only = claim_of("shell-host", 10);
  shell_only.executors = std::vector<std::string>{"shell"};
  BOOST_TEST(ids(f.storage().claim(shell_only)) == std::vector<std::string>{"shell"}, boost::test_tools::per_element());
  BOOST_TEST(f.storage().claim(shell_only).empty());  // http and my-plugin are not its to take

  auto none = claim_of("metrics-only-host", 10);
  none.executors = std::vector<std::string>{};  // loaded no executor: claims nothing
  BOOST_TEST(f.storage().claim(none).empty());
  BOOST_TEST(f.storage().get("web")->state == job_state::pending);

  auto both = claim_of("full-host", 10);
  both.executors = std::vector<std::string>{"my-plugin", "http"};
  both.queues = {"default"};
  BOOST_TEST(ids(f.storage().claim(both)) == (std::vector<std::string>{"web", "custom"}), boost::test_tools::per_element());
  BOOST_TEST(f.storage().get("web")->attempts == 1);
  BOOST_TEST(f.storage().get("web")->lease_owner == "full-host");

  f.storage().insert({make_job("later")});
  BOOST_TEST(ids(f.storage().claim(claim_of("any-executor", 10))) == std::vector<std::string>{"later"},
             boost::test_tools::per_element());  // nullopt: any executor
}

BOOST_AUTO_TEST_CASE_TEMPLATE(waiting_by_executor_counts_pending_and_failed, F, fixtures) {
  F f;
  job h1 = make_job("h1"), h2 = make_job("h2"), s1 = make_job("s1"), s2 = make_job("s2");
  h1.executor = h2.executor = "http";
  f.storage().insert({h1, h2, s1, s2});
  auto shell = claim_of("w", 2);
  shell.executors = std::vector<std::string>{"shell"};
  BOOST_REQUIRE(f.storage().claim(shell).size() == 2u);
  f.storage().finish(finish_of("s1", "w", job_state::completed));
  auto failed = finish_of("s2", "w", job_state::failed);
  failed.run_at = t0 + 1h;
  f.storage().finish(failed);
  const auto waiting = f.storage().waiting_by_executor();
  BOOST_TEST(waiting.size() == 2u);
  BOOST_TEST(waiting.at("http") == 2u);
  BOOST_TEST(waiting.at("shell") == 1u);  // s2 waits for its retry; s1 is done
}

BOOST_AUTO_TEST_CASE_TEMPLATE(next_due_is_the_earliest_job_the_claimer_could_take, F, fixtures) {
  F f;
  job soon_http = make_job("soon-http", 0, t0 + 5s), later_shell = make_job("later-shell", 9, t0 + 1h);
  job mail = make_job("mail", 0, t0 + 10s);
  soon_http.executor = "http";
  mail.queue = "mail";
  f.storage().insert({soon_http, later_shell, mail});
  auto any = claim_of("w", 1);
  BOOST_TEST((f.storage().next_due(any) == t0 + 5s));
  auto shell = claim_of("w", 1);
  shell.executors = std::vector<std::string>{"shell"};
  BOOST_TEST((f.storage().next_due(shell) == t0 + 10s));
  shell.queues = {"default"};
  BOOST_TEST((f.storage().next_due(shell) == t0 + 1h));
  shell.executors = std::vector<std::string>{};
  BOOST_TEST(!f.storage().next_due(shell).has_value());
  auto none = claim_of("w", 1);
  none.executors = std::vector<std::string>{"nothing-like-this"};
  BOOST_TEST(!f.storage().next_due(none).has_value());
  BOOST_TEST(f.storage().claim(claim_of("w", 5, t0 + 2h)).size() == 3u);
  BOOST_TEST(!f.storage().next_due(any).has_value());  // claimed: nothing waits
}

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_opens_an_attempt_and_finish_closes_it, F, fixtures) {
  F f;
  f.storage().insert({make_job("j")});
  BOOST_REQUIRE(f.storage().claim(claim_of("w", 1)).size() == 1u);
  auto at = f.storage().attempts("j");
  BOOST_REQUIRE(at.size() == 1u);
  BOOST_TEST(at[0].number == 1);
  BOOST_TEST(at[0].worker == "w");
  BOOST_TEST(at[0].outcome == attempt_outcome::running);
  BOOST_TEST(!f.storage().finish(finish_of("j", "intruder", job_state::completed)));
  auto fin = finish_of("j", "w", job_state::failed);
  fin.exit_code = 7;
  fin.output = "some output\n";
  fin.last_error = "exit code 7";
  fin.run_at = t0 + 10s;
  BOOST_TEST(f.storage().finish(fin));
  const auto j = *f.storage().get("j");
  BOOST_TEST(j.state == job_state::failed);
  BOOST_TEST((j.exit_code == 7));
  BOOST_TEST(j.last_error == "exit code 7");
  BOOST_TEST((j.run_at == t0 + 10s));
  BOOST_TEST(j.lease_owner.empty());
  at = f.storage().attempts("j");
  BOOST_TEST(at[0].outcome == attempt_outcome::failed);
  BOOST_TEST((at[0].exit_code == 7));
  BOOST_TEST(at[0].output == "some output\n");
  BOOST_TEST((at[0].finished_at == t0 + 2s));
  BOOST_TEST(!f.storage().finish(finish_of("j", "w", job_state::completed)));  // not processing any more
  // the retry is claimable once due, and numbered 2
  BOOST_TEST(f.storage().claim(claim_of("w", 1, t0 + 5s)).empty());
  const auto again = f.storage().claim(claim_of("w", 1, t0 + 10s));
  BOOST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].attempts == 2);
  BOOST_TEST(f.storage().finish(finish_of("j", "w", job_state::dead, t0 + 11s)));
  BOOST_TEST(f.storage().get("j")->state == job_state::dead);
  BOOST_TEST(f.storage().attempts("j").size() == 2u);
  BOOST_TEST(f.storage().attempts("j")[1].number == 2);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(renew_lease_only_for_the_holder, F, fixtures) {
  F f;
  f.storage().insert({make_job("j")});
  f.storage().claim(claim_of("w", 1));
  BOOST_TEST(f.storage().renew_lease("j", "w", t0 + 90s));
  BOOST_TEST((f.storage().get("j")->lease_expires_at == t0 + 90s));
  BOOST_TEST(!f.storage().renew_lease("j", "other", t0 + 90s));
  BOOST_TEST(!f.storage().renew_lease("missing", "w", t0 + 90s));
  BOOST_TEST(f.storage().cancel("j", t0 + 3s));
  BOOST_TEST(!f.storage().renew_lease("j", "w", t0 + 99s));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(release_hands_back_without_counting, F, fixtures) {
  F f;
  f.storage().insert({make_job("j")});
  f.storage().claim(claim_of("w", 1));
  BOOST_TEST(!f.storage().release("j", "other", t0 + 2s));
  BOOST_TEST(f.storage().release("j", "w", t0 + 2s));
  const auto j = *f.storage().get("j");
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  BOOST_TEST(f.storage().attempts("j").back().outcome == attempt_outcome::released);
  BOOST_TEST(f.storage().claim(claim_of("w2", 1, t0 + 3s)).size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reclaim_requeues_then_kills_after_max_recoveries, F, fixtures) {
  F f;
  f.storage().insert({make_job("j")});
  f.storage().claim(claim_of("dead-worker", 1));  // lease until t0+31s
  BOOST_TEST(f.storage().reclaim_expired(t0 + 20s, 2).requeued == 0u);
  auto r = f.storage().reclaim_expired(t0 + 40s, 2);
  BOOST_TEST(r.requeued == 1u);
  auto j = *f.storage().get("j");
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  BOOST_TEST(j.recoveries == 1);
  BOOST_TEST(f.storage().attempts("j")[0].outcome == attempt_outcome::lost);
  BOOST_TEST(f.storage().attempts("j")[0].error == "lease lapsed: worker dead-worker died or stalled");
  // max-recoveries 2: the second lapse is the last (issue 9 item 12: it was the third).
  f.storage().claim(claim_of("dead-worker", 1, t0 + 41s));
  r = f.storage().reclaim_expired(t0 + 100s, 2);
  BOOST_TEST(r.dead == 1u);
  j = *f.storage().get("j");
  BOOST_TEST(j.state == job_state::dead);
  BOOST_TEST(j.recoveries == 2);
  BOOST_TEST(j.last_error ==
             "its host died or stalled while running it 2 times (max-recoveries 2), the last time on worker dead-worker");
  BOOST_TEST(f.storage().attempts("j").size() == 2u);
  BOOST_TEST(f.storage().attempts("j")[1].number == 2);
}

// When a host process dies, every job it ran lapses in the same pass; each one's record
// names the others, so the culprit can be found among them.
BOOST_AUTO_TEST_CASE_TEMPLATE(reclaim_names_the_jobs_that_shared_the_dead_host, F, fixtures) {
  F f;
  f.storage().insert({make_job("a"), make_job("b"), make_job("c")});
  f.storage().claim(claim_of("h:1:x/0", 1));
  f.storage().claim(claim_of("h:1:x/1", 1));
  f.storage().claim(claim_of("h:2:y/0", 1));
  BOOST_TEST(f.storage().reclaim_expired(t0 + 40s, 1).dead == 3u);  // max-recoveries 1: the first lapse is the last
  std::map<std::string, std::string> owner_of;
  for (const auto& id : {"a", "b", "c"}) owner_of[f.storage().attempts(id)[0].worker] = id;
  const std::string on0 = owner_of["h:1:x/0"], on1 = owner_of["h:1:x/1"], other = owner_of["h:2:y/0"];
  BOOST_TEST(f.storage().get(on0)->last_error ==
             "its host died or stalled while running it 1 time (max-recoveries 1), the last time on worker h:1:x/0; "
             "also running in that host process: " + on1 + " on h:1:x/1");
  BOOST_TEST(f.storage().attempts(on1)[0].error ==
             "lease lapsed: worker h:1:x/1 died or stalled; also running in that host process: " + on0 + " on h:1:x/0");
  BOOST_TEST(f.storage().attempts(other)[0].error == "lease lapsed: worker h:2:y/0 died or stalled");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(cancel_pending_running_final_missing, F, fixtures) {
  F f;
  f.storage().insert({make_job("p"), make_job("r")});
  BOOST_TEST(f.storage().cancel("p", t0 + 1s));
  BOOST_TEST(f.storage().get("p")->state == job_state::canceled);
  BOOST_TEST(!f.storage().cancel("p", t0 + 1s));
  BOOST_TEST(!f.storage().cancel("missing", t0 + 1s));
  f.storage().claim(claim_of("w", 1));
  BOOST_TEST(f.storage().cancel("r", t0 + 2s));
  BOOST_TEST(f.storage().attempts("r")[0].outcome == attempt_outcome::canceled);
  BOOST_TEST(!f.storage().finish(finish_of("r", "w", job_state::completed)));
  BOOST_TEST(f.storage().get("r")->state == job_state::canceled);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(retry_dead_resets_and_keeps_history, F, fixtures) {
  F f;
  f.storage().insert({make_job("j")});
  f.storage().claim(claim_of("w", 1));
  auto fin = finish_of("j", "w", job_state::dead);
  fin.exit_code = 1;
  f.storage().finish(fin);
  BOOST_TEST(!f.storage().retry_dead("missing", t0 + 3s));
  BOOST_TEST(f.storage().retry_dead("j", t0 + 3s));
  const auto j = *f.storage().get("j");
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  BOOST_TEST(!j.exit_code.has_value());
  BOOST_TEST(!f.storage().retry_dead("j", t0 + 3s));  // not dead any more
  const auto again = f.storage().claim(claim_of("w", 1, t0 + 4s));
  BOOST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].attempts == 1);
  const auto at = f.storage().attempts("j");
  BOOST_REQUIRE(at.size() == 2u);  // the dead attempt is kept; the new one is numbered after it
  BOOST_TEST(at[1].number == 2);
}

// Every storage here requeues all dead jobs in one step, and touches nothing else.
BOOST_AUTO_TEST_CASE_TEMPLATE(retry_all_dead_requeues_exactly_the_dead_jobs, F, fixtures) {
  F f;
  static_assert(bulk_dead_retry<std::remove_reference_t<decltype(f.storage())>>);
  f.storage().insert({make_job("d1"), make_job("d2"), make_job("ok"), make_job("running"), make_job("waiting")});
  BOOST_REQUIRE(f.storage().claim(claim_of("w", 4)).size() == 4u);
  f.storage().finish(finish_of("d1", "w", job_state::dead));
  f.storage().finish(finish_of("d2", "w", job_state::dead));
  f.storage().finish(finish_of("ok", "w", job_state::completed));
  BOOST_TEST(f.storage().retry_all_dead(t0 + 3s) == 2u);
  for (const char* id : {"d1", "d2"}) {
    const auto j = *f.storage().get(id);
    BOOST_TEST((j.state == job_state::pending), id);
    BOOST_TEST(j.attempts == 0, id);
    BOOST_TEST((j.run_at == t0 + 3s), id);
  }
  BOOST_TEST((f.storage().get("ok")->state == job_state::completed));
  BOOST_TEST((f.storage().get("running")->state == job_state::processing));
  BOOST_TEST((f.storage().get("waiting")->state == job_state::pending));
  BOOST_TEST(f.storage().retry_all_dead(t0 + 4s) == 0u);  // none left
}

BOOST_AUTO_TEST_CASE_TEMPLATE(remove_and_purge, F, fixtures) {
  F f;
  f.storage().insert({make_job("done-old"), make_job("done-new"), make_job("running"), make_job("waiting")});
  auto got = f.storage().claim(claim_of("w", 3));
  BOOST_REQUIRE(got.size() == 3u);
  f.storage().finish(finish_of("done-old", "w", job_state::completed, t0 + 2s));
  f.storage().finish(finish_of("done-new", "w", job_state::completed, t0 + 100s));
  BOOST_TEST(!f.storage().remove("running"));
  BOOST_TEST(!f.storage().remove("missing"));
  purge_filter pf;
  pf.updated_before = t0 + 50s;
  BOOST_TEST(f.storage().purge(pf) == 1u);
  BOOST_TEST(!f.storage().get("done-old").has_value());
  BOOST_TEST(f.storage().attempts("done-old").empty());
  BOOST_TEST(f.storage().purge({}) == 1u);
  BOOST_TEST(f.storage().remove("waiting"));
  BOOST_TEST(ids(f.storage().list({})) == std::vector<std::string>{"running"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(list_filters_and_pages, F, fixtures) {
  F f;
  std::vector<job> js;
  for (int i = 0; i < 10; ++i) {
    js.push_back(make_job("j" + std::to_string(i)));
    if (i % 2) js.back().queue = "odd";
  }
  f.storage().insert(js);
  f.storage().claim(claim_of("w", 1));  // j0 → processing
  list_filter lf;
  lf.limit = 3;
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"j0", "j1", "j2"}), boost::test_tools::per_element());
  lf.offset = 8;
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"j8", "j9"}), boost::test_tools::per_element());
  lf = {};
  lf.newest_first = true;
  lf.limit = 2;
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"j9", "j8"}), boost::test_tools::per_element());
  lf = {};
  lf.queue = "odd";
  lf.limit = 0;
  BOOST_TEST(f.storage().list(lf).size() == 5u);
  lf = {};
  lf.state = job_state::processing;
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"j0"}, boost::test_tools::per_element());
  const auto c = f.storage().counts();
  BOOST_TEST(at(c, job_state::pending) == 9u);
  BOOST_TEST(at(c, job_state::processing) == 1u);
  BOOST_TEST(at(c, job_state::dead) == 0u);
  const auto by_queue = f.storage().counts_by_queue();
  BOOST_TEST(by_queue.size() == 2u);
  BOOST_TEST(at(by_queue.at("odd"), job_state::pending) == 5u);
  BOOST_TEST(at(by_queue.at("default"), job_state::pending) == 4u);
  BOOST_TEST(at(by_queue.at("default"), job_state::processing) == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(config_entries, F, fixtures) {
  F f;
  BOOST_TEST(!f.storage().get_config("max-retries").has_value());
  f.storage().set_config("max-retries", "5");
  f.storage().set_config("max-retries", "6");
  f.storage().set_config("backoff-base", "1.5");
  BOOST_TEST(*f.storage().get_config("max-retries") == "6");
  BOOST_TEST(f.storage().config_entries().size() == 2u);
  f.storage().reset_config();
  BOOST_TEST(f.storage().config_entries().empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(config_entries_stored_together, F, fixtures) {
  F f;
  f.storage().set_config("max-retries", "5");
  f.storage().set_config_entries({});  // nothing to store: nothing changes
  BOOST_TEST(f.storage().config_entries().size() == 1u);
  f.storage().set_config_entries({{"max-retries", "2"}, {"backoff-base", "3"}, {"lease-seconds", "10"}});
  const auto e = f.storage().config_entries();
  BOOST_TEST(e.size() == 3u);
  BOOST_TEST(e.at("max-retries") == "2");  // an existing key is overwritten
  BOOST_TEST(e.at("backoff-base") == "3");
  BOOST_TEST(e.at("lease-seconds") == "10");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(workers_registry, F, fixtures) {
  F f;
  worker_info w;
  w.id = "host:1:a";
  w.hostname = "host";
  w.pid = 1;
  w.slots = 4;
  w.started_at = t0;
  w.heartbeat_at = t0;
  f.storage().upsert_worker(w);
  w.heartbeat_at = t0 + 10s;
  f.storage().upsert_worker(w);
  auto ws = f.storage().workers();
  BOOST_REQUIRE(ws.size() == 1u);
  BOOST_TEST(ws[0].slots == 4);
  BOOST_TEST((ws[0].heartbeat_at == t0 + 10s));
  BOOST_TEST(!ws[0].executors.has_value());  // not said: any
  w.executors = std::vector<std::string>{"http", "shell"};
  f.storage().upsert_worker(w);
  worker_info metrics_only = w;
  metrics_only.id = "host:2:b";
  metrics_only.started_at = t0 + 1s;
  metrics_only.executors = std::vector<std::string>{};
  f.storage().upsert_worker(metrics_only);
  ws = f.storage().workers();
  BOOST_REQUIRE(ws.size() == 2u);
  BOOST_REQUIRE(ws[0].executors.has_value());
  BOOST_TEST(*ws[0].executors == (std::vector<std::string>{"http", "shell"}), boost::test_tools::per_element());
  BOOST_REQUIRE(ws[1].executors.has_value());
  BOOST_TEST(ws[1].executors->empty());
  f.storage().remove_worker("host:1:a");
  f.storage().remove_worker("host:2:b");
  BOOST_TEST(f.storage().workers().empty());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(stats_over_finished_attempts, F, fixtures) {
  F f;
  f.storage().insert({make_job("a"), make_job("b"), make_job("c")});
  f.storage().claim(claim_of("w", 3, t0));
  f.storage().finish(finish_of("a", "w", job_state::completed, t0 + 100ms));
  f.storage().finish(finish_of("b", "w", job_state::completed, t0 + 300ms));
  f.storage().finish(finish_of("c", "w", job_state::dead, t0 + 200ms));
  const auto s = f.storage().stats(std::nullopt);
  BOOST_TEST(s.finished == 3u);
  BOOST_TEST(s.succeeded == 2u);
  BOOST_TEST(s.failed == 1u);
  BOOST_TEST(s.mean_ms == 200.0);
  BOOST_TEST(s.p50_ms == 200.0);
  BOOST_TEST((s.last_finished == t0 + 300ms));
  BOOST_TEST(f.storage().stats(t0 + 250ms).finished == 1u);
}

// ---- update_job, reset_jobs, insert_sequential (issue 10) --------------------------------

job_update update_of(const std::string& id, job_state expected, time_point now = t0 + 5s) {
  job_update u;
  u.id = id;
  u.expected = expected;
  u.now = now;
  return u;
}

BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_sets_every_field_only_in_the_expected_state, F, fixtures) {
  F f;
  f.storage().insert({make_job("j"), make_job("other")});
  auto wrong = update_of("j", job_state::failed);
  wrong.set.command = "never";
  BOOST_TEST(!f.storage().update_job(wrong));  // it is pending, not failed: nothing written
  BOOST_TEST(f.storage().get("j")->command == "echo j");
  BOOST_TEST(!f.storage().update_job(update_of("missing", job_state::pending)));

  auto u = update_of("j", job_state::pending);
  u.set.command = "echo changed";
  u.set.executor = "http";
  u.set.payload = R"({"url":"http://x"})";
  u.set.queue = "mail";
  u.set.priority = 9;
  u.set.max_retries = 7;
  u.set.run_at = t0 + 60s;
  u.set.timeout = 1.5;
  u.set.env = std::map<std::string, std::string>{{"A", "1"}};
  u.set.cwd = "/tmp";
  BOOST_TEST(f.storage().update_job(u));
  const job j = *f.storage().get("j");
  BOOST_TEST(j.command == "echo changed");
  BOOST_TEST(j.executor == "http");
  BOOST_TEST(j.payload == R"({"url":"http://x"})");
  BOOST_TEST(j.queue == "mail");
  BOOST_TEST(j.priority == 9);
  BOOST_TEST(j.max_retries == 7);
  BOOST_TEST((j.run_at == t0 + 60s));
  BOOST_TEST(j.timeout == 1.5);
  BOOST_TEST((j.env == std::map<std::string, std::string>{{"A", "1"}}));
  BOOST_TEST(j.cwd == "/tmp");
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST((j.updated_at == t0 + 5s));
  BOOST_TEST(f.storage().get("other")->command == "echo other");  // only the named job

  // A running job is never edited, whatever state the caller expected.
  auto got = f.storage().claim(claim_of("w", 1, t0 + 2s));
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].id == "other");
  auto running = update_of("other", job_state::processing);
  running.set.command = "never";
  BOOST_TEST(!f.storage().update_job(running));
  BOOST_TEST(f.storage().get("other")->command == "echo other");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_priority_and_run_at_change_what_a_claim_takes, F, fixtures) {
  F f;
  f.storage().insert({make_job("a", 5), make_job("b", 1)});
  auto up = update_of("b", job_state::pending, t0);
  up.set.priority = 10;
  BOOST_TEST(f.storage().update_job(up));
  auto later = update_of("a", job_state::pending, t0);
  later.set.run_at = t0 + 100s;
  BOOST_TEST(f.storage().update_job(later));
  const auto first = f.storage().claim(claim_of("w", 5, t0 + 1s));
  BOOST_TEST(ids(first) == std::vector<std::string>{"b"}, boost::test_tools::per_element());
  BOOST_TEST(f.storage().claim(claim_of("w", 5, t0 + 101s)).size() == 1u);  // a, once due
}

BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_to_pending_starts_again_and_to_canceled_stops, F, fixtures) {
  F f;
  job d = make_job("d");
  d.max_retries = 1;
  f.storage().insert({d, make_job("p")});
  f.storage().claim(claim_of("w", 1));
  auto fin = finish_of("d", "w", job_state::dead);
  fin.exit_code = 3;
  fin.last_error = "boom";
  BOOST_REQUIRE(f.storage().finish(fin));

  auto back = update_of("d", job_state::dead, t0 + 10s);
  back.set.state = job_state::pending;
  back.set.command = "true";
  BOOST_TEST(f.storage().update_job(back));
  const job j = *f.storage().get("d");
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  BOOST_TEST(j.recoveries == 0);
  BOOST_TEST(!j.exit_code.has_value());
  BOOST_TEST((j.run_at == t0 + 10s));  // due now
  BOOST_TEST(j.command == "true");
  BOOST_TEST(!f.storage().update_job(back));  // not dead any more

  auto stop = update_of("p", job_state::pending, t0 + 10s);
  stop.set.state = job_state::canceled;
  BOOST_TEST(f.storage().update_job(stop));
  BOOST_TEST(f.storage().get("p")->state == job_state::canceled);
  const auto again = f.storage().claim(claim_of("w", 5, t0 + 11s));
  BOOST_TEST(ids(again) == std::vector<std::string>{"d"}, boost::test_tools::per_element());  // p is canceled
  BOOST_TEST(again[0].attempts == 1);
  const auto at = f.storage().attempts("d");
  BOOST_REQUIRE(at.size() == 2u);  // history kept, numbering continues
  BOOST_TEST(at[1].number == 2);
}

// A worker claiming a job while someone cancels it through update: exactly one of them
// wins, every round, across connections (processes, hosts).
BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_and_claim_race_exactly_one_wins, F, fixtures) {
  F f;
  auto second = f.other();
  int claims = 0, updates = 0;
  for (int round = 0; round < 40; ++round) {
    const std::string id = "race" + std::to_string(round);
    f.storage().insert({make_job(id)});
    std::size_t claimed = 0;
    bool updated = false;
    auto claim = [&] { claimed = f.storage().claim(claim_of("w", 1)).size(); };
    auto edit = [&] {
      auto u = update_of(id, job_state::pending);
      u.set.state = job_state::canceled;
      updated = second->update_job(u);
    };
    // Each side starts first in every other round, so both orders are exercised.
    std::thread first(round % 2 ? std::function<void()>(edit) : std::function<void()>(claim));
    std::thread then(round % 2 ? std::function<void()>(claim) : std::function<void()>(edit));
    first.join();
    then.join();
    BOOST_TEST((claimed == 1u) != updated, "round " << round << ": claimed " << claimed << ", updated " << updated);
    const job j = *f.storage().get(id);
    BOOST_TEST((j.state == (updated ? job_state::canceled : job_state::processing)), "round " << round);
    claims += static_cast<int>(claimed);
    updates += updated ? 1 : 0;
    if (claimed) f.storage().finish(finish_of(id, "w", job_state::completed));
  }
  BOOST_TEST_MESSAGE("claims won " << claims << ", updates won " << updates);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reset_jobs_refuses_while_running_unless_forced, F, fixtures) {
  F f;
  f.storage().insert({make_job("a"), make_job("b"), make_job("c")});
  f.storage().set_config("max-retries", "7");
  BOOST_REQUIRE(f.storage().claim(claim_of("w", 1)).size() == 1u);
  const reset_result refused = f.storage().reset_jobs(false);
  BOOST_TEST(refused.refused);
  BOOST_TEST(refused.running == 1u);
  BOOST_TEST(refused.deleted == 0u);
  BOOST_TEST(f.storage().list({}).size() == 3u);  // nothing deleted

  const reset_result forced = f.storage().reset_jobs(true);
  BOOST_TEST(!forced.refused);
  BOOST_TEST(forced.running == 1u);
  BOOST_TEST(forced.deleted == 3u);
  BOOST_TEST(f.storage().list({}).empty());
  BOOST_TEST(f.storage().attempts("a").empty());
  BOOST_TEST(!f.storage().finish(finish_of("a", "w", job_state::completed)));  // its worker's report is dropped
  BOOST_TEST(f.storage().get_config("max-retries").value_or("") == "7");  // settings stay

  f.storage().insert({make_job("a")});  // the ids are free again; an empty queue resets without force
  const reset_result plain = f.storage().reset_jobs(false);
  BOOST_TEST(!plain.refused);
  BOOST_TEST(plain.deleted == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(insert_sequential_numbers_jobs_and_skips_ids_in_use, F, fixtures) {
  F f;
  std::vector<job> batch{make_job(""), make_job("")};
  f.storage().insert_sequential(batch);
  BOOST_TEST(ids(batch) == (std::vector<std::string>{"job1", "job2"}), boost::test_tools::per_element());
  f.storage().insert({make_job("job4")});  // by hand
  std::vector<job> mixed{make_job(""), make_job("mine"), make_job(""), make_job("")};
  f.storage().insert_sequential(mixed);
  BOOST_TEST(ids(mixed) == (std::vector<std::string>{"job3", "mine", "job5", "job6"}), boost::test_tools::per_element());
  BOOST_TEST(f.storage().get("job5")->command == "echo ");
  BOOST_TEST(f.storage().list({}).size() == 7u);

  // A batch that fails (a given id exists) stores nothing.
  std::vector<job> bad{make_job(""), make_job("mine")};
  BOOST_CHECK_THROW(f.storage().insert_sequential(bad), error);
  BOOST_TEST(f.storage().list({}).size() == 7u);
  // Not a count of rows: deleting jobs never hands out their numbers again.
  BOOST_TEST(f.storage().remove("job6"));
  std::vector<job> next{make_job("")};
  f.storage().insert_sequential(next);
  BOOST_TEST(next[0].id != "job6");
  BOOST_TEST(next[0].id.rfind("job", 0) == 0u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(insert_sequential_from_two_connections_gives_no_duplicates, F, fixtures) {
  F f;
  auto second = f.other();
  constexpr int per_thread = 40;
  std::vector<std::string> got_a, got_b;
  auto run = [&](auto& storage, std::vector<std::string>& got) {
    for (int i = 0; i < per_thread; ++i) {
      std::vector<job> one{make_job("")};
      storage.insert_sequential(one);
      got.push_back(one[0].id);
    }
  };
  std::thread a([&] { run(f.storage(), got_a); });
  std::thread b([&] { run(*second, got_b); });
  a.join();
  b.join();
  std::set<std::string> all(got_a.begin(), got_a.end());
  all.insert(got_b.begin(), got_b.end());
  BOOST_TEST(all.size() == 2u * per_thread);  // no id handed out twice
  list_filter everything;
  everything.limit = 0;
  BOOST_TEST(f.storage().list(everything).size() == 2u * per_thread);
  for (const auto& id : all) BOOST_TEST(id.rfind("job", 0) == 0u, id);
}

BOOST_AUTO_TEST_SUITE_END()
