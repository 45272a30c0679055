// Plugins in helper processes: a crash fails one attempt, the helper is replaced, other
// attempts (running at the same time in their own helpers) are untouched; stops are
// forwarded; abandon() kills a helper that ignores its stop.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "printers.hpp"
#include "queuectl/plugin/isolated_executor.hpp"
#include "queuectl/plugin/plugin_executor.hpp"

using namespace queuectl;
using namespace std::chrono_literals;

namespace {
std::string good_plugin() { return std::string(QUEUECTL_TEST_BROKEN_DIR) + "/libqueuectl_test_good.so"; }

isolated_executor::options opts(std::string path = good_plugin(), std::map<std::string, std::string> settings = {}) {
  isolated_executor::options o;
  o.helper_argv = {QUEUECTL_TEST_HELPER, "--plugin-helper"};
  o.plugin_path = std::move(path);
  o.settings = std::move(settings);
  o.log = [](const std::string& line) { BOOST_TEST_MESSAGE(line); };
  return o;
}
job make_job(const std::string& id, const std::string& command) {
  job j;
  j.id = id;
  j.executor = "test";
  j.command = command;
  return j;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(isolation)

BOOST_AUTO_TEST_CASE(runs_in_another_process_and_reports_its_name) {
  isolated_executor x(opts());
  BOOST_TEST(x.name() == "test");
  const auto r = x.execute(make_job("a", "pid"), {});
  BOOST_TEST(r.success);
  BOOST_TEST(!r.output.empty());
  BOOST_TEST(r.output != std::to_string(::getpid()));
  // Exceptions still fail the attempt with the plugin's own words.
  BOOST_TEST(x.execute(make_job("b", "throw"), {}).error == "test executor threw: disk on fire");
  BOOST_TEST(x.helpers_started() == 1u);  // one helper, reused
}

// Regression for issue 9 item 9: a segfault in a plugin took the whole host down.
BOOST_AUTO_TEST_CASE(a_crash_fails_that_attempt_and_the_helper_is_replaced) {
  isolated_executor x(opts());
  const std::string before = x.execute(make_job("a", "pid"), {}).output;
  const auto r = x.execute(make_job("crash", "segv"), {});
  BOOST_TEST(!r.success);
  BOOST_TEST(!r.permanent);
  BOOST_TEST(r.error == "plugin 'test' crashed: signal 11 (SIGSEGV)");
  BOOST_TEST((r.signal == 11));
  const auto after = x.execute(make_job("b", "pid"), {});
  BOOST_TEST(after.success);
  BOOST_TEST(after.output != before);  // a new helper
  BOOST_TEST(x.helpers_started() == 2u);
}

BOOST_AUTO_TEST_CASE(a_crash_does_not_touch_attempts_running_beside_it) {
  isolated_executor x(opts());
  std::stop_source stop;
  execution_context ctx;
  ctx.stop = stop.get_token();
  auto innocent = std::async(std::launch::async, [&] { return x.execute(make_job("innocent", "wait-stop"), ctx); });
  std::this_thread::sleep_for(100ms);  // the innocent attempt is running in its own helper
  BOOST_TEST(x.execute(make_job("crash", "segv"), {}).error == "plugin 'test' crashed: signal 11 (SIGSEGV)");
  BOOST_TEST((innocent.wait_for(0ms) == std::future_status::timeout));  // still running
  stop.request_stop();  // forwarded to its helper
  BOOST_REQUIRE((innocent.wait_for(5s) == std::future_status::ready));
  const auto r = innocent.get();
  BOOST_TEST(r.error == "stopped on request");
}

BOOST_AUTO_TEST_CASE(abandon_kills_a_helper_that_ignores_its_stop) {
  plugin_executor exec;
  auto x = std::make_shared<isolated_executor>(opts());
  exec.add(x);
  BOOST_TEST(exec.isolated("test"));
  std::stop_source stop;
  execution_context ctx;
  ctx.stop = stop.get_token();
  const auto t0 = std::chrono::steady_clock::now();
  auto hung = std::async(std::launch::async, [&] { return exec.execute(make_job("hung", "hang"), ctx); });
  std::this_thread::sleep_for(100ms);
  stop.request_stop();  // ignored by the plugin
  BOOST_TEST((hung.wait_for(200ms) == std::future_status::timeout));
  BOOST_TEST(!exec.abandon("not-running", "x"));
  BOOST_TEST(exec.abandon("hung", "timed out after 1s"));
  BOOST_REQUIRE((hung.wait_for(5s) == std::future_status::ready));
  const auto r = hung.get();
  BOOST_TEST(r.error == "timed out after 1s");
  BOOST_TEST(r.timed_out);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
  BOOST_TEST(exec.execute(make_job("next", "pid"), {}).success);  // a fresh helper
}

BOOST_AUTO_TEST_CASE(checks_and_options_go_through_the_helper) {
  isolated_executor x(opts(good_plugin(), {{"greeting", "hi there"}}));
  BOOST_TEST(x.execute(make_job("g", "greeting"), {}).output == "hi there");
  BOOST_TEST(x.execute(make_job("crash", "segv"), {}).error == "plugin 'test' crashed: signal 11 (SIGSEGV)");
  BOOST_TEST(x.execute(make_job("g2", "greeting"), {}).output == "hi there");  // the new helper has them too
  BOOST_TEST(x.configure({{"greeting", "changed"}}) == "");
  BOOST_TEST(x.execute(make_job("g3", "greeting"), {}).output == "changed");
  job_spec s;
  s.executor = "test";
  s.id = "j1";
  s.command = "check-reject";
  BOOST_TEST(x.validate(s) == "test executor refuses j1");
  s.command = "check-segv";
  BOOST_TEST(x.validate(s) == "plugin 'test' crashed while checking the job: signal 11 (SIGSEGV)");
  s.command = "fine";
  BOOST_TEST(x.validate(s) == "");
  BOOST_TEST(x.configure({{"colour", "red"}}) == "test: unknown option 'colour' (known: greeting)");
}

BOOST_AUTO_TEST_CASE(load_errors_and_bad_options_are_the_loaders_own) {
  auto error_of = [](isolated_executor::options o) {
    try {
      isolated_executor x(std::move(o));
    } catch (const error& e) {
      BOOST_TEST(std::string(e.what()).find('\n') == std::string::npos);
      BOOST_TEST_MESSAGE(e.what());
      return e.id();
    }
    return std::string();
  };
  BOOST_TEST(error_of(opts(std::string(QUEUECTL_TEST_BROKEN_DIR) + "/libqueuectl_test_wrong_abi.so")) ==
             "queuectl.plugin.abi_mismatch");
  BOOST_TEST(error_of(opts(good_plugin(), {{"colour", "red"}})) == "queuectl.plugin.bad_option");
  auto o = opts();
  o.helper_argv = {"/nonexistent/helper"};
  BOOST_TEST(error_of(o) == "queuectl.plugin.helper_failed");
}

BOOST_AUTO_TEST_SUITE_END()
