// basic_queue state machine and worker_pool, over memory storage (no SOCI needed).
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "queuectl/backoff/constant_backoff.hpp"
#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/backoff/jittered.hpp"
#include "queuectl/backoff/linear_backoff.hpp"
#include "queuectl/executor/function_executor.hpp"
#include "queuectl/memory_queue.hpp"
#include "queuectl/worker_pool.hpp"
#include "printers.hpp"
#include "wait_until.hpp"

using namespace queuectl;
using namespace std::chrono_literals;

namespace {

/// Backoff in tens of milliseconds, so retry timing is checked without slow tests.
struct tiny_backoff {
  milliseconds delay(int n) const { return milliseconds(10 * n); }
};
static_assert(backoff_policy<tiny_backoff>);

/// Executor whose outcome the test scripts per command.
struct scripted_executor {
  std::shared_ptr<std::atomic<int>> runs = std::make_shared<std::atomic<int>>(0);
  attempt_result execute(const job& j, const execution_context& ctx) {
    ++*runs;
    if (j.command == "ok") return attempt_result::ok();
    if (j.command == "permanent") return attempt_result::failure("gone", true);
    if (j.command == "retry-after") {
      auto r = attempt_result::failure("busy");
      r.retry_after = 700ms;
      return r;
    }
    if (j.command == "throw") throw std::runtime_error("boom");
    if (j.command == "wait-stop") {
      while (!ctx.stop.stop_requested()) std::this_thread::sleep_for(1ms);
      return attempt_result::failure("canceled");
    }
    auto r = attempt_result::failure("exit 7");
    r.exit_code = 7;
    return r;
  }
};

using test_queue = basic_queue<memory_storage_mt, tiny_backoff, scripted_executor>;

job_spec spec(std::string command, std::optional<int> max_retries = std::nullopt, std::string id = {}) {
  job_spec s;
  s.id = std::move(id);
  s.command = std::move(command);
  s.max_retries = max_retries;
  return s;
}

/// Claims and runs the job once it is due, failing the test after `timeout`.
job run_when_due(test_queue& q, const std::string& id, std::chrono::milliseconds timeout = 2s) {
  BOOST_REQUIRE(test::wait_until([&] { return q.run_once("w"); }, timeout));
  return q.get(id);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backoff_policies)

BOOST_AUTO_TEST_CASE(exponential_is_base_to_the_n_capped) {
  exponential_backoff b;
  BOOST_TEST(b.delay(1).count() == 2000);
  BOOST_TEST(b.delay(2).count() == 4000);
  BOOST_TEST(b.delay(3).count() == 8000);
  b.max_seconds = 5;
  BOOST_TEST(b.delay(3).count() == 5000);
  b.base = 1.5;
  b.max_seconds = 100;
  BOOST_TEST(b.delay(2).count() == 2250);
  queue_config c;
  c.set("backoff-base", "3");
  c.set("backoff_max", "10");
  b.configure(c);
  BOOST_TEST(b.delay(1).count() == 3000);
  BOOST_TEST(b.delay(4).count() == 10000);
}

BOOST_AUTO_TEST_CASE(linear_constant_and_jittered) {
  linear_backoff l{.step = 100ms, .max = 250ms};
  BOOST_TEST(l.delay(1).count() == 100);
  BOOST_TEST(l.delay(2).count() == 200);
  BOOST_TEST(l.delay(5).count() == 250);
  constant_backoff c{.wait = 42ms};
  BOOST_TEST(c.delay(9).count() == 42);
  jittered<constant_backoff> j{.inner = {.wait = 1000ms}, .spread = 0.2};
  std::set<long long> seen;
  for (int i = 0; i < 200; ++i) {
    const auto d = j.delay(1).count();
    BOOST_TEST(d >= 800);
    BOOST_TEST(d <= 1200);
    seen.insert(d);
  }
  BOOST_TEST(seen.size() > 10u);  // it really spreads
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(queue_state_machine)

BOOST_AUTO_TEST_CASE(enqueue_applies_config_defaults) {
  test_queue q(scripted_executor{}, {});
  const auto a = q.enqueue(spec("ok"));
  BOOST_TEST(q.get(a).max_retries == 3);
  BOOST_TEST(q.get(a).state == job_state::pending);
  q.set_config("max_retries", "5");
  BOOST_TEST(q.get(q.enqueue(spec("ok"))).max_retries == 5);
  BOOST_TEST(q.get(q.enqueue(spec("ok", 1))).max_retries == 1);
  BOOST_TEST(!a.empty());
}

BOOST_AUTO_TEST_CASE(success_completes_and_records_the_attempt) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("ok"));
  const job j = run_when_due(q, id);
  BOOST_TEST(j.state == job_state::completed);
  BOOST_TEST(j.attempts == 1);
  BOOST_TEST(j.lease_owner.empty());
  const auto at = q.attempts(id);
  BOOST_REQUIRE(at.size() == 1u);
  BOOST_TEST(at[0].number == 1);
  BOOST_TEST((at[0].outcome == attempt_outcome::succeeded));
  BOOST_TEST(at[0].finished_at.has_value());
}

BOOST_AUTO_TEST_CASE(failure_retries_with_backoff_then_dies_after_max_retries) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("fail", 3));
  for (int n = 1; n <= 2; ++n) {
    const job j = run_when_due(q, id);
    BOOST_TEST(j.state == job_state::failed);
    BOOST_TEST(j.attempts == n);
    BOOST_TEST((j.exit_code == 7));
    BOOST_TEST((j.run_at - j.updated_at).count() == 10 * n);  // tiny_backoff: n-th failure waits 10·n ms
  }
  const job j = run_when_due(q, id);
  BOOST_TEST(j.state == job_state::dead);  // 3 attempts = max_retries
  BOOST_TEST(j.attempts == 3);
  BOOST_TEST(q.attempts(id).size() == 3u);
  BOOST_TEST(!q.run_once("w"));
}

BOOST_AUTO_TEST_CASE(zero_retries_means_one_attempt) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("fail", 0));
  BOOST_TEST(run_when_due(q, id).state == job_state::dead);
}

BOOST_AUTO_TEST_CASE(permanent_failure_is_dead_at_once) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("permanent", 5));
  const job j = run_when_due(q, id);
  BOOST_TEST(j.state == job_state::dead);
  BOOST_TEST(j.attempts == 1);
  BOOST_TEST(j.last_error.find("permanent") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(retry_after_overrides_backoff) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("retry-after", 3));
  const job j = run_when_due(q, id);
  BOOST_TEST((j.run_at - j.updated_at).count() == 700);
}

BOOST_AUTO_TEST_CASE(executor_exception_is_a_failed_attempt) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("throw", 1));
  const job j = run_when_due(q, id);
  BOOST_TEST(j.state == job_state::dead);
  BOOST_TEST(j.last_error.find("boom") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(expired_lease_is_recovered_without_counting_an_attempt) {
  test_queue q(scripted_executor{}, {});
  q.set_config("lease-seconds", "0.05");
  q.set_config("max-recoveries", "3");
  const auto id = q.enqueue(spec("ok"));
  for (int round = 1; round <= 2; ++round) {
    BOOST_REQUIRE(q.claim(1, "host:1:a/0").size() == 1u);
    BOOST_TEST(test::wait_until([&] { return q.reclaim_expired().requeued == 1; }, 2s));
    const job j = q.get(id);
    BOOST_TEST(j.state == job_state::pending);
    BOOST_TEST(j.attempts == 0);
    BOOST_TEST(j.recoveries == round);
  }
  // Regression (issue 9 item 12): max-recoveries 3 means the third host death is the last,
  // not the fourth.
  BOOST_REQUIRE(q.claim(1, "host:1:a/0").size() == 1u);
  BOOST_TEST(test::wait_until([&] { return q.reclaim_expired().dead == 1; }, 2s));
  const job j = q.get(id);
  BOOST_TEST(j.state == job_state::dead);
  BOOST_TEST(j.recoveries == 3);
  BOOST_TEST(j.last_error ==
             "its host died or stalled while running it 3 times (max-recoveries 3), the last time on worker host:1:a/0");
  const auto at = q.attempts(id);
  BOOST_REQUIRE(at.size() == 3u);
  BOOST_TEST((at[0].outcome == attempt_outcome::lost));
}

BOOST_AUTO_TEST_CASE(a_stale_worker_cannot_report_after_recovery) {
  test_queue q(scripted_executor{}, {});
  q.set_config("lease-seconds", "0.05");
  const auto id = q.enqueue(spec("ok"));
  const auto claimed = q.claim(1, "slow");
  BOOST_REQUIRE(claimed.size() == 1u);
  BOOST_TEST(test::wait_until([&] { return q.reclaim_expired().requeued == 1; }, 2s));
  BOOST_TEST(!q.report(claimed.front(), "slow", attempt_result::ok()));
  BOOST_TEST(!q.heartbeat(id, "slow"));
  BOOST_TEST(q.get(id).state == job_state::pending);
}

BOOST_AUTO_TEST_CASE(cancel_rules) {
  test_queue q(scripted_executor{}, {});
  const auto pending = q.enqueue(spec("ok", 3, "p"));
  q.cancel(pending);
  BOOST_TEST(q.get(pending).state == job_state::canceled);
  BOOST_CHECK_EXCEPTION(q.cancel(pending), error, [](const error& e) { return e.kind() == error_kind::conflict; });
  BOOST_CHECK_EXCEPTION(q.cancel("missing"), error, [](const error& e) { return e.kind() == error_kind::not_found; });
  const auto running = q.enqueue(spec("ok", 3, "r"));
  const auto claimed = q.claim(1, "w");
  BOOST_REQUIRE(claimed.size() == 1u);
  q.cancel(running);
  BOOST_TEST(!q.heartbeat(running, "w"));  // the worker learns it must stop
  BOOST_TEST(!q.report(claimed.front(), "w", attempt_result::ok()));
  BOOST_TEST(q.get(running).state == job_state::canceled);
}

BOOST_AUTO_TEST_CASE(retry_from_dead_resets_attempts) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("fail", 1));
  BOOST_TEST(run_when_due(q, id).state == job_state::dead);
  q.retry_dead(id);
  job j = q.get(id);
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  BOOST_TEST(run_when_due(q, id).attempts == 1);
  BOOST_CHECK_EXCEPTION(q.retry_dead("missing"), error, [](const error& e) { return e.kind() == error_kind::not_found; });
  const auto ok = q.enqueue(spec("ok"));
  BOOST_CHECK_EXCEPTION(q.retry_dead(ok), error, [](const error& e) { return e.id() == "queuectl.queue.not_dead"; });
}

BOOST_AUTO_TEST_CASE(retry_dead_all_requeues_every_dead_job_and_nothing_else) {
  test_queue q(scripted_executor{}, {});
  const auto a = q.enqueue(spec("fail", 1));
  const auto b = q.enqueue(spec("fail", 1));
  BOOST_TEST(run_when_due(q, a).state == job_state::dead);
  BOOST_TEST(run_when_due(q, b).state == job_state::dead);
  const auto ok = q.enqueue(spec("ok"));
  BOOST_TEST(q.retry_dead_all() == 2u);
  BOOST_TEST(q.get(a).state == job_state::pending);
  BOOST_TEST(q.get(b).attempts == 0);
  BOOST_TEST(q.get(ok).state == job_state::pending);  // untouched: it was never dead
  BOOST_TEST(q.retry_dead_all() == 0u);
}

BOOST_AUTO_TEST_CASE(the_queue_offers_what_the_apps_need_without_storage) {
  test_queue q(scripted_executor{}, {});
  q.set_config("max-retries", "7");
  const auto v = q.read_config();
  BOOST_TEST(v.values.max_retries == 7);
  BOOST_TEST(v.stored.size() == 1u);
  BOOST_TEST(v.stored.count("max-retries") == 1u);
  worker_info w;
  w.id = "host:1:0";
  w.hostname = "host";
  w.pid = 1;
  w.slots = 2;
  q.register_worker(w);
  BOOST_REQUIRE_EQUAL(q.workers().size(), 1u);
  BOOST_TEST(q.workers().front().slots == 2);
  q.unregister_worker(w.id);
  BOOST_TEST(q.workers().empty());
  job_spec s = spec("ok");
  s.queue = "mail";
  q.enqueue(std::move(s));
  BOOST_TEST(q.counts_by_queue().at("mail")[static_cast<std::size_t>(job_state::pending)] == 1u);
  BOOST_TEST(q.waiting_by_executor().at("shell") == 1u);
}

// queuectl update's rules (docs/cli.md, "update"): which moves each state allows, a
// running job refused, nothing changed on any refusal.
BOOST_AUTO_TEST_CASE(update_moves_and_refusals) {
  test_queue q(scripted_executor{}, {});
  auto id_is = [](const char* id) { return [id](const error& e) { return e.id() == id; }; };
  const auto to = [](job_state s) {
    job_patch p;
    p.state = s;
    return p;
  };
  // dead → pending: attempts start again, as dlq retry.
  const auto dead = q.enqueue(spec("fail", 1, "dead"));
  BOOST_TEST(run_when_due(q, dead).state == job_state::dead);
  BOOST_CHECK_EXCEPTION(q.update(dead, to(job_state::canceled)), error, id_is("queuectl.update.move"));
  job j = q.update(dead, to(job_state::pending));
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  // completed → pending → canceled → pending.
  q.cancel(dead);
  const auto done = q.enqueue(spec("ok", 3, "done"));
  BOOST_TEST(run_when_due(q, done).state == job_state::completed);
  BOOST_CHECK_EXCEPTION(q.update(done, to(job_state::canceled)), error, id_is("queuectl.update.move"));
  BOOST_TEST(q.update(done, to(job_state::pending)).state == job_state::pending);
  BOOST_TEST(q.update(done, to(job_state::canceled)).state == job_state::canceled);
  BOOST_TEST(q.update(done, to(job_state::pending)).state == job_state::pending);
  BOOST_TEST(q.update(done, to(job_state::pending)).state == job_state::pending);  // already there: fine
  // failed → canceled and failed → pending.
  q.cancel(done);
  const auto failed = q.enqueue(spec("fail", 3, "failed"));
  BOOST_TEST(run_when_due(q, failed).state == job_state::failed);
  BOOST_TEST(q.update(failed, to(job_state::pending)).attempts == 0);
  BOOST_TEST(run_when_due(q, failed).state == job_state::failed);
  BOOST_TEST(q.update(failed, to(job_state::canceled)).state == job_state::canceled);
  // Only pending and canceled are targets; a running job is refused; unknown ids are not found.
  BOOST_CHECK_EXCEPTION(q.update(failed, to(job_state::completed)), error, id_is("queuectl.update.state"));
  const auto running = q.enqueue(spec("ok", 3, "running"));
  BOOST_REQUIRE(q.claim(1, "w").size() == 1u);
  job_patch edit;
  edit.command = "echo never";
  BOOST_CHECK_EXCEPTION(q.update(running, edit), error, id_is("queuectl.queue.running"));
  BOOST_TEST(q.get(running).command == "ok");
  BOOST_CHECK_EXCEPTION(q.update("missing", edit), error, id_is("queuectl.queue.not_found"));
  // Cross-field rules and the caller's check see the job as it would be; a refusal changes nothing.
  const auto p = q.enqueue(spec("ok", 3, "p"));
  job_patch empty_command;
  empty_command.command = "";
  BOOST_CHECK_EXCEPTION(q.update(p, empty_command), error, id_is("queuectl.spec.command"));
  job_patch to_http;
  to_http.executor = "http";
  to_http.priority = 4;
  BOOST_CHECK_THROW(q.update(p, to_http, [](const job_spec& s) {
                      if (s.executor == "http" && s.payload == "{}") throw invalid_field("payload", "needs a url");
                    }),
                    error);
  BOOST_TEST(q.get(p).executor == "shell");
  BOOST_TEST(q.get(p).priority == 0);
  BOOST_TEST(q.update(p, to_http).priority == 4);
}

BOOST_AUTO_TEST_CASE(sequential_ids_when_configured) {
  test_queue q(scripted_executor{}, {});
  BOOST_TEST(q.enqueue(spec("ok")).rfind("job", 0) != 0u);  // the default: random ids
  q.set_config("job-ids", "sequential");
  BOOST_TEST(q.enqueue(spec("ok")) == "job1");
  q.enqueue(spec("ok", 3, "job2"));  // by hand
  BOOST_TEST((q.enqueue(std::vector<job_spec>{spec("ok"), spec("ok")}) == std::vector<std::string>{"job3", "job4"}));
  BOOST_CHECK_THROW(q.set_config("job-ids", "uuid4"), error);
  BOOST_TEST(q.config().job_ids == "sequential");
}

BOOST_AUTO_TEST_CASE(priority_then_run_at_then_fifo) {
  test_queue q(scripted_executor{}, {});
  auto s = spec("ok", 3, "low");
  q.enqueue(s);
  s = spec("ok", 3, "high-2");
  s.priority = 5;
  q.enqueue(s);
  s = spec("ok", 3, "high-1");
  s.priority = 5;
  s.run_at = now() - 1s;
  q.enqueue(s);
  s = spec("ok", 3, "low-2");
  q.enqueue(s);
  std::vector<std::string> order;
  for (const auto& j : q.claim(10, "w")) order.push_back(j.id);
  BOOST_TEST(order == (std::vector<std::string>{"high-1", "high-2", "low", "low-2"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bulk_enqueue_is_all_or_nothing) {
  test_queue q(scripted_executor{}, {});
  q.enqueue(spec("ok", 3, "taken"));
  std::vector<job_spec> batch{spec("ok", 3, "a"), spec("ok", 3, "taken"), spec("ok", 3, "b")};
  BOOST_CHECK_EXCEPTION(q.enqueue(batch), error, [](const error& e) { return e.kind() == error_kind::conflict; });
  BOOST_TEST(q.list().size() == 1u);
}

BOOST_AUTO_TEST_CASE(bad_config_value_changes_nothing) {
  test_queue q(scripted_executor{}, {});
  BOOST_CHECK_THROW(q.set_config("max-retries", "-1"), error);
  BOOST_CHECK_THROW(q.set_config("max-retries", "1.5"), error);
  BOOST_CHECK_THROW(q.set_config("backoff-base", "0.5"), error);
  BOOST_CHECK_THROW(q.set_config("no-such-key", "1"), error);
  BOOST_TEST(q.storage().config_entries().empty());
  q.set_config("backoff_base", "1.5");
  BOOST_TEST(q.storage().config_entries().at("backoff-base") == "1.5");
  q.reset_config();
  BOOST_TEST(q.config().backoff_base == 2.0);
}

BOOST_AUTO_TEST_CASE(several_settings_are_all_or_nothing) {
  test_queue q(scripted_executor{}, {});
  using settings = std::vector<std::pair<std::string, std::string>>;
  // The last one is bad: the first two are not stored either.
  BOOST_CHECK_THROW(q.set_config(settings{{"max-retries", "1"}, {"backoff-base", "3"}, {"lease-seconds", "1e300"}}), error);
  BOOST_CHECK_THROW(q.set_config(settings{{"max-retries", "1"}, {"max_retries", "2"}}), error);  // one key twice
  BOOST_TEST(q.storage().config_entries().empty());
  const auto keys = q.set_config(settings{{"max_retries", "1"}, {"backoff-base", "3"}});
  BOOST_TEST((keys == std::vector<std::string>{"max-retries", "backoff-base"}));
  BOOST_TEST(q.config().max_retries == 1);
  BOOST_TEST(q.config().backoff_base == 3.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(worker_pool_runs)

BOOST_AUTO_TEST_CASE(every_job_runs_exactly_once_across_threads) {
  std::mutex mu;
  std::multiset<std::string> ran;
  auto record = [&](const job& j) {
    std::lock_guard lock(mu);
    ran.insert(j.id);
  };
  memory_queue<function_executor<decltype(record)>> q(function_executor{record}, {});
  std::vector<job_spec> specs;
  for (int i = 0; i < 500; ++i) specs.push_back(spec("x", 3, "job-" + std::to_string(i)));
  q.enqueue(specs);
  worker_pool pool(q, worker_pool_options{.threads = 4});
  pool.start();
  BOOST_TEST(test::wait_until([&] { return at(q.counts(), job_state::completed) == 500; }, 20s));
  pool.request_stop();
  pool.join();
  BOOST_TEST(ran.size() == 500u);
  for (const auto& id : ran) BOOST_TEST(ran.count(id) == 1u);
}

BOOST_AUTO_TEST_CASE(graceful_stop_lets_the_running_job_finish) {
  std::atomic<bool> started{false}, release{false};
  auto slow = [&](const job&) {
    started = true;
    while (!release) std::this_thread::sleep_for(1ms);
  };
  memory_queue<function_executor<decltype(slow)>> q(function_executor{slow}, {});
  const auto id = q.enqueue(spec("x"));
  q.enqueue(spec("x", 3, "second"));
  worker_pool pool(q, worker_pool_options{.threads = 1});
  pool.start();
  BOOST_REQUIRE(test::wait_until([&] { return started.load(); }, 5s));
  pool.request_stop();
  BOOST_TEST(!pool.wait_stopped_for(50ms));  // still running its job
  release = true;
  BOOST_TEST(pool.wait_stopped_for(5s));
  pool.join();
  BOOST_TEST(q.get(id).state == job_state::completed);
  BOOST_TEST(q.get("second").state == job_state::pending);  // nothing new claimed
}

BOOST_AUTO_TEST_CASE(abort_hands_running_jobs_back_unattempted) {
  test_queue q(scripted_executor{}, {});
  const auto id = q.enqueue(spec("wait-stop"));
  worker_pool pool(q, worker_pool_options{.threads = 1});
  pool.start();
  BOOST_REQUIRE(test::wait_until([&] { return pool.busy() == 1; }, 5s));
  pool.abort_running();
  pool.join();
  const job j = q.get(id);
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  BOOST_TEST((q.attempts(id).back().outcome == attempt_outcome::released));
}

BOOST_AUTO_TEST_CASE(cancel_stops_a_running_job_through_the_heartbeat) {
  test_queue q(scripted_executor{}, {});
  q.set_config("lease-seconds", "0.3");
  const auto id = q.enqueue(spec("wait-stop"));
  worker_pool pool(q, worker_pool_options{.threads = 1});
  pool.start();
  BOOST_REQUIRE(test::wait_until([&] { return pool.busy() == 1; }, 5s));
  q.cancel(id);
  BOOST_TEST(test::wait_until([&] { return pool.busy() == 0; }, 5s));
  pool.request_stop();
  pool.join();
  BOOST_TEST(q.get(id).state == job_state::canceled);
  BOOST_TEST((q.attempts(id).back().outcome == attempt_outcome::canceled));
}

BOOST_AUTO_TEST_CASE(enqueue_wakes_an_idle_pool_without_waiting_for_the_poll) {
  test_queue q(scripted_executor{}, {});
  q.set_config("poll-interval-ms", "60000");
  worker_pool pool(q, worker_pool_options{.threads = 1});
  pool.start();
  BOOST_REQUIRE(test::wait_until([&] { return q.wake().generation() > 0 || true; }, 1s));
  const auto id = q.enqueue(spec("ok"));
  BOOST_TEST(test::wait_until([&] { return q.get(id).state == job_state::completed; }, 5s));
  pool.request_stop();
  pool.join();
}

BOOST_AUTO_TEST_CASE(cancel_reaches_a_running_job_on_the_wake_up_not_the_heartbeat) {
  test_queue q(scripted_executor{}, {});
  q.set_config("lease-seconds", "300");        // heartbeat every 10 s: far too late
  q.set_config("poll-interval-ms", "60000");   // no polling either: only the wake-up
  const auto id = q.enqueue(spec("wait-stop"));
  std::mutex mu;
  std::optional<attempt_outcome> reported;
  worker_pool_options o{.threads = 1};
  o.on_finish = [&](const job&, const attempt_result&, attempt_outcome outcome, time_point, time_point) {
    std::lock_guard lock(mu);
    reported = outcome;
  };
  worker_pool pool(q, o);
  pool.start();
  BOOST_REQUIRE(test::wait_until([&] { return pool.busy() == 1; }, 5s));
  std::this_thread::sleep_for(300ms);
  const auto t0 = std::chrono::steady_clock::now();
  q.cancel(id);
  BOOST_TEST(test::wait_until([&] { return pool.busy() == 0; }, 5s));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 500ms));  // target 100 ms; slack for a loaded machine
  pool.request_stop();
  pool.join();
  const auto rec = q.attempts(id).back();
  BOOST_TEST((rec.outcome == attempt_outcome::canceled));
  std::lock_guard lock(mu);
  BOOST_TEST((reported == attempt_outcome::canceled));  // exporters see canceled, not failed
}

BOOST_AUTO_TEST_CASE(cancel_by_another_process_is_seen_on_its_change_notification) {
  test_queue q(scripted_executor{}, {});
  q.set_config("lease-seconds", "300");
  q.set_config("poll-interval-ms", "60000");
  const auto id = q.enqueue(spec("wait-stop"));
  worker_pool pool(q, worker_pool_options{.threads = 1});
  pool.start();
  BOOST_REQUIRE(test::wait_until([&] { return pool.busy() == 1; }, 5s));
  BOOST_REQUIRE(q.storage().cancel(id, now()));  // as `queuectl cancel` in another process writes it
  const auto t0 = std::chrono::steady_clock::now();
  q.wake().notify();                             // as the WAL watcher / LISTEN reports it
  BOOST_TEST(test::wait_until([&] { return pool.busy() == 0; }, 5s));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 500ms));
  pool.request_stop();
  pool.join();
}

namespace {
/// Ignores ctx.timeout and ctx.stop: sleeps `for_ms`, then reports success.
struct stubborn {
  std::shared_ptr<std::atomic<int>> returned = std::make_shared<std::atomic<int>>(0);
  attempt_result execute(const job& j, const execution_context&) {
    if (j.command != "ok") std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(j.command)));
    ++*returned;
    return attempt_result::ok();
  }
};
using stubborn_queue = basic_queue<memory_storage_mt, tiny_backoff, stubborn>;
}  // namespace

BOOST_AUTO_TEST_CASE(timeout_is_enforced_whatever_the_executor_does) {
  stubborn_queue q(stubborn{}, {});
  auto s = spec("600", 1, "late");
  s.timeout = 0.2;
  q.enqueue(s);
  worker_pool_options o{.threads = 1};
  o.abandon_grace = 2s;  // the executor returns (late) within the grace
  std::atomic<int> outcome{-1};
  o.on_finish = [&](const job&, const attempt_result&, attempt_outcome oc, time_point, time_point) {
    outcome = static_cast<int>(oc);
  };
  worker_pool pool(q, o);
  pool.start();
  BOOST_TEST(test::wait_until([&] { return q.get("late").state == job_state::dead; }, 5s));
  pool.request_stop();
  pool.join();
  const auto rec = q.attempts("late").back();
  BOOST_TEST((rec.outcome == attempt_outcome::timed_out));  // not succeeded: it ran 0.6 s on a 0.2 s timeout
  BOOST_TEST(q.get("late").last_error == "timed out after 0.2s");
  BOOST_TEST(outcome.load() == static_cast<int>(attempt_outcome::timed_out));
}

BOOST_AUTO_TEST_CASE(a_stuck_executor_is_abandoned_and_frees_its_slot) {
  stubborn_queue q(stubborn{}, {});
  const auto returned = q.executor().returned;
  auto s = spec("2500", 1, "stuck");
  s.timeout = 0.2;
  q.enqueue(s);
  worker_pool_options o{.threads = 1};
  o.abandon_grace = 300ms;
  std::atomic<int> abandoned{0};
  o.on_abandon = [&](const job& j, const std::string&) {
    if (j.id == "stuck") ++abandoned;
  };
  worker_pool pool(q, o);
  const auto t0 = std::chrono::steady_clock::now();
  pool.start();
  BOOST_TEST(test::wait_until([&] { return q.get("stuck").state == job_state::dead; }, 5s));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1500ms));  // 0.2 s + 0.3 s grace, with slack
  BOOST_TEST(abandoned.load() == 1);
  BOOST_TEST(q.get("stuck").last_error.find("abandoned") != std::string::npos);
  // The slot is free while the stuck call still sleeps: the next job runs on it.
  q.enqueue(spec("ok", 1, "next"));
  BOOST_TEST(test::wait_until([&] { return q.get("next").state == job_state::completed; }, 2s));
  BOOST_TEST(returned->load() == 1);  // only "next" has returned so far
  // When the stuck call finally returns, its success is discarded.
  BOOST_TEST(test::wait_until([&] { return returned->load() == 2; }, 5s));
  std::this_thread::sleep_for(100ms);
  BOOST_TEST(q.get("stuck").state == job_state::dead);
  BOOST_TEST(q.attempts("stuck").size() == 1u);
  BOOST_TEST((q.attempts("stuck").back().outcome == attempt_outcome::timed_out));
  pool.request_stop();
  const auto t1 = std::chrono::steady_clock::now();
  pool.join();
  BOOST_TEST((std::chrono::steady_clock::now() - t1 < 1s));
  BOOST_TEST(pool.stuck_calls() == 0u);
}

BOOST_AUTO_TEST_CASE(shutdown_stays_bounded_with_a_stuck_executor) {
  stubborn_queue q(stubborn{}, {});
  const auto returned = q.executor().returned;
  q.enqueue(spec("1500", 3, "busy"));  // no timeout: only the abort stops it
  worker_pool_options o{.threads = 1};
  o.abandon_grace = 200ms;
  auto pool = std::make_unique<worker_pool<stubborn_queue>>(q, o);
  pool->start();
  BOOST_REQUIRE(test::wait_until([&] { return pool->busy() == 1; }, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  pool->abort_running();
  pool->join();
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));  // grace + grace for the stuck call
  BOOST_TEST(pool->stuck_calls() == 1u);
  BOOST_TEST(q.get("busy").state == job_state::pending);  // handed back, not counted
  BOOST_TEST(q.get("busy").attempts == 0);
  pool.reset();
  // The detached call still runs in q's executor: let it finish before q goes away.
  BOOST_TEST(test::wait_until([&] { return returned->load() == 1; }, 5s));
  std::this_thread::sleep_for(100ms);
  BOOST_TEST(q.get("busy").state == job_state::pending);
}

BOOST_AUTO_TEST_SUITE_END()

// The factories deduce the queue's type from its executor (and backoff): nothing is named
// twice, and the queue they return is the one the alias spells.
BOOST_AUTO_TEST_CASE(make_memory_queue_deduces_the_type_and_runs_jobs) {
  int runs = 0;
  auto q = make_memory_queue(function_executor{[&](const job&) {
    ++runs;
    return true;
  }});
  static_assert(std::is_same_v<decltype(q)::backoff_type, exponential_backoff>);
  q.enqueue(job_spec{.id = "a", .command = "x"});
  BOOST_TEST(q.run_once("w"));
  BOOST_TEST(runs == 1);
  BOOST_TEST((q.get("a").state == job_state::completed));

  auto fixed = make_memory_queue(noop_executor{}, constant_backoff{});
  static_assert(std::is_same_v<decltype(fixed), memory_queue<noop_executor, constant_backoff>>);
}

// worker_pool takes any queue_like type: basic_queue over each storage is one.
static_assert(queue_like<basic_queue<memory_storage_mt, exponential_backoff, noop_executor>>);
static_assert(!queue_like<memory_storage_mt>);
