/// @file
/// @brief The `UPDATE jobs …` of a job_update, shared by the SOCI storages: one statement
/// whose WHERE holds the state the change was decided on; every value a bound parameter.
#pragma once

#include <soci/soci.h>

#include <string>

#include "queuectl/storage/detail/soci_rows.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl::detail {

/// Build with the job_update and its times on the database's timeline (ms), then prepare
/// `text` on a statement and call bind(): the bound values live in this object.
struct job_update_sql {
  std::string text;
  std::string id, expected, command, executor, payload, queue, env, cwd;
  int priority = 0, max_retries = 0;
  long long now = 0, run_at = 0;
  double timeout = 0;

  job_update_sql(const job_update& u, long long now_ms, long long run_at_ms)
      : id(u.id), expected(to_string(u.expected)), now(now_ms), run_at(run_at_ms) {
    const job_patch& p = u.set;
    text = "UPDATE jobs SET updated_at = :now";
    if (p.command) command = *p.command, text += ", command = :command";
    if (p.executor) executor = *p.executor, text += ", executor = :executor";
    if (p.payload) payload = *p.payload, text += ", payload = :payload";
    if (p.queue) queue = *p.queue, text += ", queue = :queue";
    if (p.priority) priority = *p.priority, text += ", priority = :priority";
    if (p.max_retries) max_retries = *p.max_retries, text += ", max_retries = :max_retries";
    if (p.timeout) timeout = *p.timeout, text += ", timeout = :timeout";
    if (p.env) env = env_to_json(*p.env), text += ", env = :env";
    if (p.cwd) cwd = *p.cwd, text += ", cwd = :cwd";
    if (p.run_at) text += ", run_at = :run_at";
    if (p.state == job_state::pending && u.expected != job_state::pending) {
      // What `dlq retry` does: a fresh start, due now unless run_at says otherwise.
      text += ", state = 'pending', attempts = 0, recoveries = 0, exit_code = NULL";
      if (!p.run_at) text += ", run_at = :now";
    } else if (p.state == job_state::canceled) {
      text += ", state = 'canceled'";
    }
    text += " WHERE id = :id AND state = :expected AND state <> 'processing'";
  }

  void bind(soci::statement& st) {
    st.exchange(soci::use(now, "now"));
    st.exchange(soci::use(id, "id"));
    st.exchange(soci::use(expected, "expected"));
    if (has(":command")) st.exchange(soci::use(command, "command"));
    if (has(":executor")) st.exchange(soci::use(executor, "executor"));
    if (has(":payload")) st.exchange(soci::use(payload, "payload"));
    if (has(":queue")) st.exchange(soci::use(queue, "queue"));
    if (has(":priority")) st.exchange(soci::use(priority, "priority"));
    if (has(":max_retries")) st.exchange(soci::use(max_retries, "max_retries"));
    if (has(":timeout")) st.exchange(soci::use(timeout, "timeout"));
    if (has(":env")) st.exchange(soci::use(env, "env"));
    if (has(":cwd")) st.exchange(soci::use(cwd, "cwd"));
    if (has(":run_at")) st.exchange(soci::use(run_at, "run_at"));
  }

 private:
  bool has(const char* placeholder) const { return text.find(placeholder) != std::string::npos; }
};

}  // namespace queuectl::detail
