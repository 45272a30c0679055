// The shell plugin: output, exit codes, env/cwd, output cap, timeouts and cancel that end
// the whole process tree, concurrent use.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "printers.hpp"
#include "queuectl/plugin/loader.hpp"
#include "wait_until.hpp"

extern char** environ;

using namespace queuectl;
using namespace std::chrono_literals;

namespace {
std::shared_ptr<executor_plugin> shell() {
  static auto p = plugin_loader({QUEUECTL_TEST_PLUGIN_DIR}).load_executor("shell");
  return p;
}
attempt_result run(const std::string& command, double timeout = 0) {
  job j;
  j.command = command;
  execution_context ctx;
  ctx.timeout = timeout;
  return shell()->execute(j, ctx);
}
/// A copy of sleep with a unique name, so the test can find exactly its own processes.
std::string unique_sleep() {
  static int n = 0;
  const auto p = std::filesystem::temp_directory_path() /
                 ("qctl-sleep-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
  std::filesystem::copy_file("/bin/sleep", p, std::filesystem::copy_options::overwrite_existing);
  return p.string();
}
bool any_process_running(const std::string& exe) {
  for (const auto& d : std::filesystem::directory_iterator("/proc")) {
    std::ifstream cmd(d.path() / "cmdline");
    std::string s;
    if (cmd && std::getline(cmd, s, '\0') && s == exe) return true;
  }
  return false;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(shell_plugin)

BOOST_AUTO_TEST_CASE(captures_stdout_and_stderr) {
  const auto r = run("echo out; echo err >&2");
  BOOST_TEST(r.success);
  BOOST_TEST((r.exit_code == 0));
  BOOST_TEST(r.output == "out\nerr\n");
}

BOOST_AUTO_TEST_CASE(exit_code_is_a_failure) {
  const auto r = run("exit 7");
  BOOST_TEST(!r.success);
  BOOST_TEST((r.exit_code == 7));
  BOOST_TEST(r.error == "exit code 7");
}

BOOST_AUTO_TEST_CASE(command_not_found) {
  const auto r = run("definitely-not-a-command-xyz");
  BOOST_TEST(!r.success);
  BOOST_TEST((r.exit_code == 127));
  BOOST_TEST(r.output.find("not found") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(env_and_cwd) {
  job j;
  j.command = "printf '%s:%s' \"$GREETING\" \"$(pwd)\"";
  j.env = {{"GREETING", "hello"}};
  j.cwd = "/usr";
  const auto r = shell()->execute(j, {});
  BOOST_TEST(r.success);
  BOOST_TEST(r.output == "hello:/usr");
  j.cwd = "/no/such/dir";
  const auto bad = shell()->execute(j, {});
  BOOST_TEST(!bad.success);
  BOOST_TEST(bad.error.find("/no/such/dir") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(signal_is_recorded) {
  const auto r = run("kill -9 $$");
  BOOST_TEST(!r.success);
  BOOST_TEST((r.signal == 9));
  BOOST_TEST(r.error.find("SIGKILL") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(output_is_capped_with_a_marker) {
  const auto r = run("head -c 2097152 /dev/zero | tr '\\0' x; echo done >&2");
  BOOST_TEST(r.success);
  BOOST_TEST(r.output.size() < (1u << 20) + 200);
  BOOST_TEST(r.output.find("output truncated") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(timeout_kills_the_whole_tree) {
  const std::string sleeper = unique_sleep();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run(sleeper + " 100 & " + sleeper + " 100", 0.5);
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(r.timed_out);
  BOOST_TEST(!r.success);
  BOOST_TEST(r.error.find("timed out") != std::string::npos);
  BOOST_TEST((took < 5s));  // timeout + SIGTERM grace, with slack
  BOOST_TEST(test::wait_until([&] { return !any_process_running(sleeper); }, 3s));
  std::filesystem::remove(sleeper);
}

BOOST_AUTO_TEST_CASE(stop_token_cancels_quickly) {
  job j;
  j.command = "sleep 100";
  std::stop_source stop;
  execution_context ctx;
  ctx.stop = stop.get_token();
  std::thread canceler([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = shell()->execute(j, ctx);
  canceler.join();
  BOOST_TEST(!r.success);
  BOOST_TEST(r.error == "canceled");
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 3s));
}

BOOST_AUTO_TEST_CASE(background_leftovers_do_not_outlive_the_job) {
  const std::string sleeper = unique_sleep();
  const auto r = run(sleeper + " 100 & echo started");
  BOOST_TEST(r.success);
  BOOST_TEST(test::wait_until([&] { return !any_process_running(sleeper); }, 3s));
  std::filesystem::remove(sleeper);
}

BOOST_AUTO_TEST_CASE(concurrent_executions) {
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const auto r = run("echo " + std::to_string(t * 100 + i));
        if (r.success && r.output == std::to_string(t * 100 + i) + "\n") ++ok;
      }
    });
  for (auto& t : ts) t.join();
  BOOST_TEST(ok.load() == 40);
}


BOOST_AUTO_TEST_CASE(cancel_kills_a_job_that_ignores_sigterm_after_the_grace) {
  const std::string sleeper = unique_sleep();
  job j;
  j.command = "trap '' TERM; " + sleeper + " 100";
  std::stop_source stop;
  execution_context ctx;
  ctx.stop = stop.get_token();
  std::thread canceler([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = shell()->execute(j, ctx);
  canceler.join();
  BOOST_TEST(r.error == "canceled");
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 5s));  // 200 ms + 2 s grace, with slack
  BOOST_TEST(test::wait_until([&] { return !any_process_running(sleeper); }, 3s));
  std::filesystem::remove(sleeper);
}

// The supervisor on its own: when its lifeline's write end closes (the host died, however),
// the job's whole group goes at once.
BOOST_AUTO_TEST_CASE(supervisor_kills_the_job_group_when_the_host_goes) {
  const std::string sleeper = unique_sleep();
  int lifeline[2];
  BOOST_REQUIRE(::pipe2(lifeline, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, lifeline[0], 3);
  std::string sup = std::string(QUEUECTL_TEST_PLUGIN_DIR) + "/queuectl-shell-supervisor";
  std::string host = std::to_string(::getpid()), grace = "2000", sh = "/bin/sh", c = "-c",
              cmd = sleeper + " 100 & " + sleeper + " 100";
  char* argv[] = {sup.data(), host.data(), grace.data(), sh.data(), c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  BOOST_REQUIRE(::posix_spawn(&pid, sup.c_str(), &fa, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(lifeline[0]);
  BOOST_TEST(test::wait_until([&] { return any_process_running(sleeper); }, 3s));
  const auto t0 = std::chrono::steady_clock::now();
  ::close(lifeline[1]);  // as the host's death would
  BOOST_TEST(test::wait_until([&] { return !any_process_running(sleeper); }, 3s));
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 1s));
  int status = 0;
  BOOST_TEST(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 125));
  std::filesystem::remove(sleeper);
}

BOOST_AUTO_TEST_SUITE_END()
