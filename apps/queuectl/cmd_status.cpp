// status, metrics.
#include "cli.hpp"
#include "durations.hpp"
#include "json_output.hpp"
#include "snapshots.hpp"
#include "text_views.hpp"

namespace queuectl::cli {

int cmd_status(const globals& g, const args_t& args) {
  command_parser p(g, "status", "[--json]",
                   "Prints the number of jobs in each state (all six, one 'state: N' line each), then the\n"
                   "workers: 'active: N' is the number of worker slots alive over all processes. A process\n"
                   "is alive while its heartbeat is within max(3 x lease-seconds, 10 s) ('stale' after); one\n"
                   "registered from this machine whose pid no longer runs is 'gone' at once. Jobs waiting for\n"
                   "an executor that no live host has loaded are listed per executor ('http: 2 jobs'): hosts\n"
                   "claim only jobs of the executor plugins they loaded.");
  p.json();
  if (!p.parse(args)) return exit_ok;
  auto q = open_queue_for_reading(p);
  app::status_snapshot s;
  s.counts = q->counts();
  s.workers = q->workers();
  s.waiting_by_executor = q->waiting_by_executor();
  s.lease_seconds = q->config().lease_seconds;
  s.now = now();
  print(p.json_output() ? app::status_json(s) + "\n" : app::status_text(s));
  return exit_ok;
}

int cmd_metrics(const globals& g, const args_t& args) {
  command_parser p(g, "metrics", "[--since AGE] [--json]",
                   "Prints throughput (finished attempts per minute over the window), success rate,\n"
                   "mean/p50/p95/p99 attempt duration, and job counts per state and per queue.");
  p.options()("since", po::value<std::string>()->value_name("AGE"),
              "only attempts finished in the last AGE (30s, 5m, 1h, 7d); default: all time");
  p.json();
  if (!p.parse(args)) return exit_ok;
  app::metrics_snapshot m;
  if (auto since = p.maybe<std::string>("since")) {
    m.window = app::parse_duration(*since);
    if (!m.window || m.window->count() == 0)
      throw usage_error("--since: '" + *since + "' is not a duration like 30s, 5m, 1h, 7d");
  }
  auto q = open_queue_for_reading(p);
  m.now = now();
  m.stats = q->stats(m.window ? std::optional<time_point>(m.now - *m.window) : std::nullopt);
  m.counts = q->counts();
  for (const auto& [queue, counts] : q->counts_by_queue()) m.per_queue[queue] = counts;
  print(p.json_output() ? app::metrics_json(m) + "\n" : app::metrics_text(m));
  return exit_ok;
}

}  // namespace queuectl::cli
