// worker start (the shared runtime), worker stop (SIGTERM to the registered workers here).
#include <signal.h>
#include <cerrno>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "cli.hpp"
#include "queuectl/plugin/loader.hpp"
#include "db_location.hpp"
#include "durations.hpp"
#include "runtime.hpp"
#include "worker_slots.hpp"

namespace queuectl::cli {

namespace {

int worker_start(const globals& g, const args_t& args) {
  command_parser p(g, "worker start",
                   "[--count N] [--queue Q]... [--daemon [--log-file F]] [--plugin-dir D]...\n"
                   "                             [--quiet | --echo-output] [--log-format text|json]",
                   "Runs N worker slots in the foreground until SIGINT/SIGTERM (or 'queuectl worker stop'),\n"
                   "then lets the running jobs finish and exits 0. Several 'worker start' processes share\n"
                   "the queue. Jobs run through the default executor plugins (shell, and http where installed).\n"
                   "Logs one line per attempt start and end on stderr (time, slot, job, attempt n of m; at the\n"
                   "end the outcome, duration and exit code); with --daemon they go to the --log-file.");
  p.options()("count,c", po::value<int>()->value_name("N")->default_value(1), "worker slots (parallel jobs)")(
      "queue", po::value<std::vector<std::string>>()->value_name("Q")->composing(),
      "only run jobs of this queue; repeatable (default: all)")(
      "daemon", "detach from the terminal and run in the background")(
      "log-file", po::value<std::string>()->value_name("F"), "with --daemon: append the log here (default: discard)")(
      "plugin-dir", po::value<std::vector<std::string>>()->value_name("D")->composing(),
      "extra directory searched for plugins first; repeatable")(
      "isolate", po::value<std::string>()->value_name("none|third-party|all"),
      "which executor plugins run in helper processes (default third-party; see docs/plugins.md)")(
      "quiet", "no per-attempt lines")(
      "echo-output", "also each line of a job's output, prefixed with its id, when the attempt ends")(
      "log-format", po::value<std::string>()->value_name("text|json")->default_value("text"),
      "json: one JSON object per line (docs/cli.md, \"Worker log lines\")");
  if (!p.parse(args)) return exit_ok;
  app::runtime_options o;
  o.workers = p.get<int>("count");
  if (o.workers < 1) throw usage_error("--count must be at least 1");
  if (auto d = p.maybe<std::vector<std::string>>("plugin-dir")) o.plugin_dirs = *d;
  if (auto i = p.maybe<std::string>("isolate")) o.isolate = *i;
  o.plugins = app::default_executor_plugins(o.plugin_dirs);
  if (auto q = p.maybe<std::vector<std::string>>("queue")) o.queues = *q;
  o.daemon = p.has("daemon");
  if (auto f = p.maybe<std::string>("log-file")) {
    if (!o.daemon) throw usage_error("--log-file goes with --daemon");
    o.log_file = *f;
  }
  o.quiet = p.has("quiet");
  o.echo_output = p.has("echo-output");
  o.log_format = p.get<std::string>("log-format");
  o.db = p.db();
  return app::run_runtime(o);
}

int worker_stop(const globals& g, const args_t& args) {
  command_parser p(g, "worker stop", "[--wait [--timeout AGE]]",
                   "Gracefully stops every worker process of this queue on this host (SIGTERM: running jobs\n"
                   "finish, nothing new is claimed) and prints how many were signalled ('signalled N worker\n"
                   "processes'), or 'no running workers' when there is none (exit 0).");
  p.options()("wait", "wait until the signalled processes have exited")(
      "timeout", po::value<std::string>()->value_name("AGE"),
      "with --wait: give up (exit 1) after AGE (default: stop-timeout-seconds + 10s)");
  if (!p.parse(args)) return exit_ok;
  std::optional<milliseconds> timeout;
  if (auto t = p.maybe<std::string>("timeout")) {
    timeout = app::parse_duration(*t);
    if (!timeout) throw usage_error("--timeout: '" + *t + "' is not a duration like 30s, 5m");
  }
  auto q = open_queue(p);
  auto [signalled, elsewhere] = app::signal_local_workers(*q);  // also /worker/stop (worker_slots.hpp)
  if (signalled.empty()) print("no running workers\n");
  else
    print("signalled " + std::to_string(signalled.size()) + " worker process" + (signalled.size() == 1 ? "" : "es") +
          "\n");
  if (elsewhere)
    std::fprintf(stderr, "queuectl: %zu worker process(es) on other hosts were not signalled\n", elsewhere);
  if (!p.has("wait") || signalled.empty()) return exit_ok;
  std::fflush(stdout);
  const auto limit = timeout ? *timeout : saturating_ms(q->config().stop_timeout_seconds + 10);
  const auto deadline = saturating_deadline(std::chrono::steady_clock::now(), limit);
  while (true) {
    std::erase_if(signalled, app::process_has_exited);
    if (signalled.empty()) return exit_ok;
    if (std::chrono::steady_clock::now() >= deadline)
      throw error(error_kind::runtime, "queuectl.cli.stop_timeout",
                  std::to_string(signalled.size()) + " worker process(es) still running after " +
                      app::format_duration(limit));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

int cmd_worker(const globals& g, const args_t& args) {
  static const std::vector<subcommand> subs = {
      {"start", "run N workers in the foreground (--daemon: in the background)", worker_start},
      {"stop", "gracefully stop every worker on this host", worker_stop},
  };
  return dispatch_group(g, "worker", subs, args);
}

}  // namespace queuectl::cli
