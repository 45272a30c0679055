/// @file
/// @brief The storage contract's cases on queries, config, workers and stats.
// Part of the storage contract (queuectl/testing/storage_contract.hpp): included there,
// inside the suite, once.
using namespace queuectl;
using namespace queuectl::contract;

BOOST_AUTO_TEST_CASE_TEMPLATE(remove_and_purge, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(list_filters_and_pages, F, queuectl_contract_fixtures) {
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
  if constexpr (counts_per_queue<std::remove_reference_t<decltype(f.storage())>>) {  // optional
    const auto by_queue = f.storage().counts_by_queue();
    BOOST_TEST(by_queue.size() == 2u);
    BOOST_TEST(at(by_queue.at("odd"), job_state::pending) == 5u);
    BOOST_TEST(at(by_queue.at("default"), job_state::pending) == 4u);
    BOOST_TEST(at(by_queue.at("default"), job_state::processing) == 1u);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(config_entries, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(config_entries_stored_together, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(workers_registry, F, queuectl_contract_fixtures) {
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

BOOST_AUTO_TEST_CASE_TEMPLATE(list_by_executor_text_and_keyset, F, queuectl_contract_fixtures) {
  F f;
  std::vector<job> js;
  for (int i = 0; i < 6; ++i) {
    js.push_back(make_job("k" + std::to_string(i)));
    js.back().executor = i % 2 ? "http" : "shell";
  }
  js[2].command = "Backup the DB";
  js[4].command = "echo 100%_done";
  js[5].id = "K5-Report";
  f.storage().insert(js);
  // k3 fails once (last_error set); the claim takes the first job in claim order.
  f.storage().update_job([&] {
    job_update u;
    u.id = "k3";
    u.expected = job_state::pending;
    u.set.priority = 5;
    u.now = t0;
    return u;
  }());
  BOOST_REQUIRE(ids(f.storage().claim(claim_of("w", 1))) == std::vector<std::string>{"k3"});
  finish_request failed = finish_of("k3", "w", job_state::dead);
  failed.last_error = "disk FULL";
  BOOST_REQUIRE(f.storage().finish(failed));
  list_filter lf;
  lf.limit = 0;
  lf.executor = "http";
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"k1", "k3", "K5-Report"}), boost::test_tools::per_element());
  lf = {};
  lf.text = "backup";  // ASCII case ignored, in command
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"k2"}, boost::test_tools::per_element());
  lf.text = "full";  // in last_error
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"k3"}, boost::test_tools::per_element());
  lf.text = "k5-r";  // in id
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"K5-Report"}, boost::test_tools::per_element());
  lf.text = "0%_";  // LIKE's wildcards match themselves only
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"k4"}, boost::test_tools::per_element());
  lf.text = "%";
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"k4"}, boost::test_tools::per_element());
  lf.text = "_";
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"k4"}, boost::test_tools::per_element());
  lf.executor = "shell";
  lf.text = "echo";
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"k0", "k4"}), boost::test_tools::per_element());

  // Keyset pages, both orders: the next page starts past the last seq of the one before.
  lf = {};
  lf.limit = 4;
  const auto first = f.storage().list(lf);
  BOOST_REQUIRE(first.size() == 4u);
  lf.min_seq = first.back().seq + 1;
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"k4", "K5-Report"}), boost::test_tools::per_element());
  lf = {};
  lf.newest_first = true;
  lf.limit = 2;
  const auto newest = f.storage().list(lf);
  BOOST_REQUIRE(newest.size() == 2u);
  lf.max_seq = newest.back().seq - 1;
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"k3", "k2"}), boost::test_tools::per_element());
  lf.executor = "http";
  BOOST_TEST(ids(f.storage().list(lf)) == (std::vector<std::string>{"k3", "k1"}), boost::test_tools::per_element());
  lf.min_seq = first[2].seq;  // a window of seqs (k2..k3): k1 is below it
  BOOST_TEST(ids(f.storage().list(lf)) == std::vector<std::string>{"k3"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(stats_over_finished_attempts, F, queuectl_contract_fixtures) {
  F f;
  using store = std::remove_reference_t<decltype(f.storage())>;
  if constexpr (!attempt_statistics<store>) {  // optional capability: nothing to check
    BOOST_TEST_MESSAGE("no attempt_statistics: skipped");
    return;
  } else {
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
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finished_attempts_per_minute, F, queuectl_contract_fixtures) {
  F f;
  using store = std::remove_reference_t<decltype(f.storage())>;
  if constexpr (!attempt_statistics<store>) {
    BOOST_TEST_MESSAGE("no attempt_statistics: skipped");
    return;
  } else {
  // t0 is a minute's start. Claimed at t0 + 1s; one attempt ends in t0's minute (before the
  // window), two in the next minute, one two minutes after that.
  f.storage().insert({make_job("a"), make_job("b"), make_job("c"), make_job("d")});
  claim_request c = claim_of("w", 4);
  c.lease_until = t0 + 10min;
  BOOST_REQUIRE(f.storage().claim(c).size() == 4u);
  f.storage().finish(finish_of("d", "w", job_state::completed, t0 + 30s));
  // Seconds from every minute boundary: a storage that keeps its own timeline (PostgreSQL's
  // clock offset, re-measured) may move a stored time by its measuring error.
  f.storage().finish(finish_of("a", "w", job_state::completed, t0 + 1min + 5s));
  f.storage().finish(finish_of("b", "w", job_state::dead, t0 + 1min + 50s));
  f.storage().finish(finish_of("c", "w", job_state::completed, t0 + 3min + 5s));
  const std::int64_t m0 = to_ms(t0) / 60000;
  const auto per_minute = finished_per_minute_of(f.storage(), t0 + 1min, t0 + 4min);
  const std::vector<minute_count> want{{m0 + 1, 1, 1}, {m0 + 3, 1, 0}};
  BOOST_TEST(per_minute == want, boost::test_tools::per_element());
  BOOST_TEST(finished_per_minute_of(f.storage(), t0 + 2min, t0 + 4min) == (std::vector<minute_count>{{m0 + 3, 1, 0}}),
             boost::test_tools::per_element());
  BOOST_TEST(finished_per_minute_of(f.storage(), t0 + 5min, t0 + 6min).empty());
  }
}
