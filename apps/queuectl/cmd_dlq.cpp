// dlq list, dlq retry ID | --all.
#include "cli.hpp"
#include "json_output.hpp"
#include "text_views.hpp"

namespace queuectl::cli {

namespace {

int dlq_list(const globals& g, const args_t& args) {
  command_parser p(g, "dlq list", "[--queue Q] [--json]",
                   "Lists the dead jobs (they used up their retries), oldest first.\n"
                   "With --json prints only a JSON array of job objects.");
  p.options()("queue", po::value<std::string>()->value_name("Q"), "only jobs of this queue");
  p.json();
  if (!p.parse(args)) return exit_ok;
  list_filter f;
  f.state = job_state::dead;
  f.limit = 0;
  if (auto q = p.maybe<std::string>("queue")) f.queue = *q;
  auto q = open_queue_for_reading(p);
  const auto jobs = q->list(f);
  print(p.json_output() ? app::jobs_json(jobs) + "\n" : app::jobs_table(jobs));
  return exit_ok;
}

int dlq_retry(const globals& g, const args_t& args) {
  command_parser p(g, "dlq retry", "ID | --all",
                   "Moves a dead job back to pending with its attempts reset (--all: every dead job).\n"
                   "Exit 3 if there is no such job, 2 if it is not dead.");
  p.positional("id");
  p.options()("all", "retry every dead job; prints how many");
  if (!p.parse(args)) return exit_ok;
  if (p.has("all") == p.has("id")) throw usage_error("give either a job ID or --all");
  auto q = open_queue(p);
  if (p.has("id")) {
    const std::string id = p.get<std::string>("id");
    q->retry_dead(id);
    print("requeued " + id + "\n");
    return exit_ok;
  }
  const std::size_t n = q->retry_dead_all();
  print("requeued " + std::to_string(n) + "\n");
  return exit_ok;
}

}  // namespace

int cmd_dlq(const globals& g, const args_t& args) {
  static const std::vector<subcommand> subs = {
      {"list", "list dead jobs [--json]", dlq_list},
      {"retry", "move a dead job (or --all) back to pending, attempts reset", dlq_retry},
  };
  return dispatch_group(g, "dlq", subs, args);
}

}  // namespace queuectl::cli
