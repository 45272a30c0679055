/// @file
/// @brief The storage contract's cases on updates, resets and sequential ids.
// Part of the storage contract (queuectl/testing/storage_contract.hpp): included there,
// inside the suite, once, after contract_queries.hpp.

// ---- update_job, reset_jobs, insert_sequential (issue 10) --------------------------------

job_update update_of(const std::string& id, job_state expected, time_point now = t0 + 5s) {
  job_update u;
  u.id = id;
  u.expected = expected;
  u.now = now;
  return u;
}

BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_sets_every_field_only_in_the_expected_state, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_priority_and_run_at_change_what_a_claim_takes, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_to_pending_starts_again_and_to_canceled_stops, F, queuectl_contract_fixtures) {
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
BOOST_AUTO_TEST_CASE_TEMPLATE(update_job_and_claim_race_exactly_one_wins, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(reset_jobs_refuses_while_running_unless_forced, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(insert_sequential_numbers_jobs_and_skips_ids_in_use, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(insert_sequential_from_two_connections_gives_no_duplicates, F, queuectl_contract_fixtures) {
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

