/// @file
/// @brief The storage contract's cases on the job lifecycle: insert, claim, finish, leases, reclaim, cancel, retry.
// Part of the storage contract (queuectl/testing/storage_contract.hpp): included there,
// inside the suite, once.
using namespace queuectl;
using namespace queuectl::contract;


BOOST_AUTO_TEST_CASE_TEMPLATE(insert_get_round_trips_every_field, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(duplicate_id_rejects_the_whole_batch, F, queuectl_contract_fixtures) {
  F f;
  f.storage().insert({make_job("a")});
  BOOST_CHECK_EXCEPTION(f.storage().insert({make_job("b"), make_job("a"), make_job("c")}), error,
                        [](const error& e) { return e.kind() == error_kind::conflict; });
  BOOST_CHECK_EXCEPTION(f.storage().insert({make_job("d"), make_job("d")}), error,
                        [](const error& e) { return e.kind() == error_kind::conflict; });
  BOOST_TEST(f.storage().list({}).size() == 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_order_priority_then_run_at_then_fifo, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_respects_max_and_queue_filter, F, queuectl_contract_fixtures) {
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
BOOST_AUTO_TEST_CASE_TEMPLATE(claim_takes_only_jobs_of_the_claimers_executors, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(waiting_by_executor_counts_pending_and_failed, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(next_due_is_the_earliest_job_the_claimer_could_take, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_opens_an_attempt_and_finish_closes_it, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(renew_lease_only_for_the_holder, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(release_hands_back_without_counting, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(reclaim_requeues_then_kills_after_max_recoveries, F, queuectl_contract_fixtures) {
  F f;
  f.storage().insert({make_job("j")});
  f.storage().claim(claim_of("dead-worker", 1));  // lease until t0+31s
  BOOST_TEST(reclaim_lapsed(f.storage(), t0 + 20s, 2).requeued == 0u);
  auto r = reclaim_lapsed(f.storage(), t0 + 40s, 2);
  BOOST_TEST(r.requeued == 1u);
  auto j = *f.storage().get("j");
  BOOST_TEST(j.state == job_state::pending);
  BOOST_TEST(j.attempts == 0);
  BOOST_TEST(j.recoveries == 1);
  BOOST_TEST(f.storage().attempts("j")[0].outcome == attempt_outcome::lost);
  BOOST_TEST(f.storage().attempts("j")[0].error == "lease lapsed: worker dead-worker died or stalled");
  // max-recoveries 2: the second lapse is the last (issue 9 item 12: it was the third).
  f.storage().claim(claim_of("dead-worker", 1, t0 + 41s));
  r = reclaim_lapsed(f.storage(), t0 + 100s, 2);
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
// The queue decides, the storage only performs: a recovery is written only while the job
// still runs under the lapsed lease it was decided for.
BOOST_AUTO_TEST_CASE_TEMPLATE(recover_lapsed_is_a_conditional_transition, F, queuectl_contract_fixtures) {
  F f;
  f.storage().insert({make_job("renewed"), make_job("finished"), make_job("lost")});
  BOOST_REQUIRE(f.storage().claim(claim_of("w", 3, t0)).size() == 3u);  // leases until t0 + 30s
  const auto lapsed = f.storage().lapsed_leases(t0 + 40s);
  BOOST_REQUIRE(lapsed.size() == 3u);
  for (const auto& l : lapsed) {
    BOOST_TEST(l.owner == "w");
    BOOST_TEST(l.lapses == 1);
  }
  BOOST_TEST(f.storage().lapsed_leases(t0 + 20s).empty());
  BOOST_TEST(f.storage().renew_lease("renewed", "w", t0 + 100s));
  BOOST_TEST(f.storage().finish(finish_of("finished", "w", job_state::completed, t0 + 35s)));
  auto recovery = [&](const std::string& id, const std::string& owner) {
    lapse_recovery r;
    r.id = id;
    r.owner = owner;
    r.now = t0 + 40s;
    r.lapses = 1;
    r.attempt_error = "lease lapsed";
    return r;
  };
  BOOST_TEST(!f.storage().recover_lapsed(recovery("renewed", "w")));   // its lease holds again
  BOOST_TEST(!f.storage().recover_lapsed(recovery("finished", "w")));  // done meanwhile
  BOOST_TEST(!f.storage().recover_lapsed(recovery("lost", "other")));  // not that lease
  BOOST_TEST(!f.storage().recover_lapsed(recovery("missing", "w")));
  BOOST_TEST((f.storage().get("renewed")->state == job_state::processing));
  BOOST_TEST((f.storage().get("finished")->state == job_state::completed));
  BOOST_TEST(f.storage().recover_lapsed(recovery("lost", "w")));
  BOOST_TEST(!f.storage().recover_lapsed(recovery("lost", "w")));  // once
  const auto j = *f.storage().get("lost");
  BOOST_TEST((j.state == job_state::pending));
  BOOST_TEST(j.recoveries == 1);
  const auto at = f.storage().attempts("lost");
  BOOST_REQUIRE(at.size() == 1u);
  BOOST_TEST((at[0].outcome == attempt_outcome::lost));
  BOOST_TEST(at[0].error == "lease lapsed");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reclaim_names_the_jobs_that_shared_the_dead_host, F, queuectl_contract_fixtures) {
  F f;
  f.storage().insert({make_job("a"), make_job("b"), make_job("c")});
  f.storage().claim(claim_of("h:1:x/0", 1));
  f.storage().claim(claim_of("h:1:x/1", 1));
  f.storage().claim(claim_of("h:2:y/0", 1));
  BOOST_TEST(reclaim_lapsed(f.storage(), t0 + 40s, 1).dead == 3u);  // max-recoveries 1: the first lapse is the last
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

BOOST_AUTO_TEST_CASE_TEMPLATE(cancel_pending_running_final_missing, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(retry_dead_resets_and_keeps_history, F, queuectl_contract_fixtures) {
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
BOOST_AUTO_TEST_CASE_TEMPLATE(retry_all_dead_requeues_exactly_the_dead_jobs, F, queuectl_contract_fixtures) {
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

