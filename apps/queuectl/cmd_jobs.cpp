// list, show, logs, cancel, delete, purge.
#include <algorithm>

#include "cli.hpp"
#include "durations.hpp"
#include "json_output.hpp"
#include "text_views.hpp"

namespace queuectl::cli {

int cmd_list(const globals& g, const args_t& args) {
  command_parser p(g, "list", "[--state S | --status S] [--queue Q] [--limit N] [--offset N] [--newest] [--json]",
                   "Lists jobs, oldest first: a header line, then one job per line, id first.\n"
                   "With --json prints only a JSON array of job objects ([] when none).");
  p.options()("state", po::value<std::string>()->value_name("S"),
              "only jobs in this state: pending, processing, completed, failed, dead, canceled")(
      "status", po::value<std::string>()->value_name("S"), "the same as --state")(
      "queue", po::value<std::string>()->value_name("Q"), "only jobs of this queue")(
      "limit", po::value<std::string>()->value_name("N")->default_value("100"), "at most N jobs; 0 = all")(
      "offset", po::value<std::string>()->value_name("N")->default_value("0"), "skip the first N matching jobs")(
      "newest", "newest first");
  p.json();
  if (!p.parse(args)) return exit_ok;

  list_filter f;
  auto state = p.maybe<std::string>("state");
  if (auto s = p.maybe<std::string>("status")) {
    if (state && *state != *s) throw usage_error("--state " + *state + " and --status " + *s + " disagree (they are the same option)");
    state = s;
  }
  if (state) f.state = parse_state(*state);
  if (auto q = p.maybe<std::string>("queue")) {
    if (q->empty()) throw usage_error("--queue: empty name");
    f.queue = *q;
  }
  f.limit = parse_count("--limit", p.get<std::string>("limit"));
  f.offset = parse_count("--offset", p.get<std::string>("offset"));
  f.newest_first = p.has("newest");

  auto q = open_queue_for_reading(p);
  const auto jobs = q->list(f);
  print(p.json_output() ? app::jobs_json(jobs) + "\n" : app::jobs_table(jobs));
  return exit_ok;
}

int cmd_show(const globals& g, const args_t& args) {
  command_parser p(g, "show", "ID [--json]",
                   "Shows one job: every field, then its attempts.\n"
                   "With --json: the job object plus \"history\", the array of its attempts. Exit 3 if there is no such job.");
  p.positional("id").json();
  if (!p.parse(args)) return exit_ok;
  const std::string id = p.required("id");
  auto q = open_queue_for_reading(p);
  const job j = q->get(id);
  const auto attempts = q->attempts(id);
  print(p.json_output() ? app::job_json(j, attempts) + "\n" : app::job_text(j, attempts));
  return exit_ok;
}

int cmd_logs(const globals& g, const args_t& args) {
  command_parser p(g, "logs", "ID [--attempt N] [--json]",
                   "Prints each attempt of a job: a header line\n"
                   "  === attempt N  exit_code=C  outcome=...  started=...  duration=...  worker=...\n"
                   "(exit_code=- when there is none), then the attempt's captured stdout/stderr.\n"
                   "Exit 3 if there is no such job (or no such attempt).");
  p.positional("id").json();
  p.options()("attempt", po::value<std::string>()->value_name("N"), "only attempt N (1-based)");
  if (!p.parse(args)) return exit_ok;
  const std::string id = p.required("id");
  std::optional<std::size_t> only;
  if (auto a = p.maybe<std::string>("attempt")) {
    only = parse_count("--attempt", *a);
    if (*only == 0) throw usage_error("--attempt: attempts are numbered from 1");
  }
  auto q = open_queue_for_reading(p);
  q->get(id);  // not_found → exit 3
  auto attempts = q->attempts(id);
  if (only) {
    std::erase_if(attempts, [&](const attempt_record& a) { return static_cast<std::size_t>(a.number) != *only; });
    if (attempts.empty())
      throw error(error_kind::not_found, "queuectl.cli.no_attempt",
                  "job '" + id + "' has no attempt " + std::to_string(*only));
  }
  if (p.json_output()) print(app::attempts_json(attempts) + "\n");
  else if (attempts.empty()) std::fprintf(stderr, "queuectl: job '%s' has no attempts yet\n", id.c_str());
  else print(app::attempts_log_text(attempts));
  return exit_ok;
}

int cmd_cancel(const globals& g, const args_t& args) {
  command_parser p(g, "cancel", "ID",
                   "Cancels a pending, failed or running job; a running job is stopped by its worker within\n"
                   "~100 ms. Exit 3 if there is no such job, 2 if it already finished.");
  p.positional("id");
  if (!p.parse(args)) return exit_ok;
  const std::string id = p.required("id");
  auto q = open_queue(p);
  q->cancel(id);
  print("canceled " + id + "\n");
  return exit_ok;
}

int cmd_delete(const globals& g, const args_t& args) {
  command_parser p(g, "delete", "ID",
                   "Deletes one job and its attempts. A running job must be canceled first (exit 2).\n"
                   "Exit 3 if there is no such job.");
  p.positional("id");
  if (!p.parse(args)) return exit_ok;
  const std::string id = p.required("id");
  auto q = open_queue(p);
  q->remove(id);
  print("deleted " + id + "\n");
  return exit_ok;
}

int cmd_purge(const globals& g, const args_t& args) {
  command_parser p(g, "purge", "[--state completed|dead|canceled]... [--older-than 7d]",
                   "Deletes finished jobs and their attempts (by default every completed, dead and canceled\n"
                   "job) and prints how many: 'purged N'.");
  p.options()("state", po::value<std::vector<std::string>>()->value_name("S")->composing(),
              "only this final state; repeatable")(
      "older-than", po::value<std::string>()->value_name("AGE"),
      "only jobs last updated more than AGE ago (30s, 5m, 1h, 7d)");
  if (!p.parse(args)) return exit_ok;
  purge_filter f;
  if (auto states = p.maybe<std::vector<std::string>>("state")) {
    f.states.clear();
    for (const auto& s : *states) {
      const job_state st = parse_state(s);
      if (!is_final(st))
        throw usage_error("--state " + s + ": only finished jobs are purged (completed, dead, canceled)");
      if (std::find(f.states.begin(), f.states.end(), st) == f.states.end()) f.states.push_back(st);
    }
  }
  if (auto age = p.maybe<std::string>("older-than")) {
    const auto d = app::parse_duration(*age);
    if (!d) throw usage_error("--older-than: '" + *age + "' is not a duration like 30s, 5m, 1h, 7d");
    f.updated_before = now() - *d;
  }
  auto q = open_queue(p);
  const std::size_t n = q->purge(f);
  print("purged " + std::to_string(n) + "\n");
  return exit_ok;
}

}  // namespace queuectl::cli
