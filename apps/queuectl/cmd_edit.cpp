// update '<json>' (change a job that is not running), reset (delete every job): docs/cli.md.
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "json_output.hpp"
#include "text_views.hpp"
#include "queuectl/job_codec.hpp"
#include "spec_validation.hpp"

namespace queuectl::cli {

int cmd_update(const globals& g, const args_t& args) {
  command_parser p(
      g, "update", "'<json>' [--json]",
      "Changes a job that is not running and prints it as 'show' does. The JSON object names\n"
      "the job by \"id\" and gives the fields to change, checked as enqueue checks them:\n"
      "command, executor, payload, queue, priority, max_retries, run_at, timeout, env, cwd,\n"
      "and \"state\" for a move: failed, dead, canceled or completed -> pending (attempts start\n"
      "again from 0, as 'dlq retry'), pending or failed -> canceled. e.g.:\n"
      "  queuectl update '{\"id\": \"job1\", \"state\": \"pending\"}'\n"
      "Exit 2 (nothing changed) for bad input, an unknown field, a running job or a move the\n"
      "job's state does not allow; exit 3 if there is no such job.");
  p.positional("update").json();
  if (!p.parse(args)) return exit_ok;
  const std::string text = p.required("update");
  if (text.size() > (1u << 20))
    throw error(error_kind::invalid_input, "queuectl.spec.too_large", "update is larger than 1 MiB");
  std::optional<std::string> id;
  const job_patch patch = parse_job_patch(text, &id);
  if (!id) throw invalid_field("id", "required: the id of the job to change");
  app::spec_validator validator;
  auto q = open_queue(p);
  const job j = q->update(*id, patch, [&](const job_spec& s) { validator.validate({s}); });
  const auto attempts = q->attempts(j.id);
  print(p.json_output() ? app::job_json(j, attempts) + "\n" : app::job_text(j, attempts));
  return exit_ok;
}

namespace {

std::string jobs_word(std::size_t n) { return std::to_string(n) + (n == 1 ? " job" : " jobs"); }

[[noreturn]] void refuse_running(std::size_t running) {
  throw error(error_kind::conflict, "queuectl.reset.running",
              jobs_word(running) + (running == 1 ? " is" : " are") +
                  " running (workers hold their leases): stop the workers first, or give --force to delete "
                  "running jobs too; nothing deleted");
}

}  // namespace

int cmd_reset(const globals& g, const args_t& args) {
  command_parser p(g, "reset", "[--yes] [--force]",
                   "Deletes every job and every attempt record; the settings (config) and the schema stay.\n"
                   "On a terminal it asks first; without one it needs --yes (else exit 2). While jobs are\n"
                   "running it refuses (exit 2) unless --force, which deletes them too (their workers stop\n"
                   "them at the next lease renewal). Prints 'deleted N jobs'.");
  p.options()("yes,y", "do not ask for confirmation")("force", "delete running jobs too");
  if (!p.parse(args)) return exit_ok;
  const bool yes = p.has("yes"), force = p.has("force");
  const bool tty = ::isatty(0) == 1;
  if (!yes && !tty)
    throw usage_error("reset deletes every job: give --yes when stdin is not a terminal; nothing deleted");
  auto q = open_queue(p);
  const state_counts c = q->counts();
  std::size_t total = 0;
  for (std::size_t n : c) total += n;
  const std::size_t running = at(c, job_state::processing);
  if (running > 0 && !force) refuse_running(running);
  if (!yes) {
    std::string question = "Delete all " + std::to_string(total) + " jobs and their attempts";
    if (running > 0) question += " (" + std::to_string(running) + " running)";
    question += "? [y/N] ";
    std::fputs(question.c_str(), stderr);
    std::fflush(stderr);
    std::string answer;
    std::getline(std::cin, answer);
    while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back()))) answer.pop_back();
    if (answer != "y" && answer != "Y" && answer != "yes" && answer != "YES" && answer != "Yes") {
      std::fputs("queuectl: reset aborted: nothing deleted\n", stderr);
      return exit_failure;
    }
  }
  // The count and the delete are one step in storage: a job claimed since the question is
  // not deleted without --force.
  const reset_result r = q->reset(force);
  if (r.refused) refuse_running(r.running);
  print("deleted " + jobs_word(r.deleted) + "\n");
  return exit_ok;
}

}  // namespace queuectl::cli
