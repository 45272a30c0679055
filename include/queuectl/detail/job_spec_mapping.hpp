/// @file
/// @brief Between a job_spec and a job: the job an enqueued spec becomes, the spec a stored
/// job was made from, and a patch applied to a spec (basic_queue::enqueue and update).
#pragma once

#include <string>
#include <utility>

#include "queuectl/job.hpp"
#include "queuectl/job_id.hpp"
#include "queuectl/queue_config.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail {

/// The job `s` becomes when enqueued at `t`: the config's defaults fill what the spec leaves
/// out. With `sequential` ids a job given none keeps an empty id: the storage numbers it.
inline job job_from_spec(job_spec&& s, time_point t, const queue_config& cfg, bool sequential) {
  job j;
  j.id = s.id.empty() && !sequential ? generate_job_id() : std::move(s.id);
  j.command = std::move(s.command);
  j.executor = std::move(s.executor);
  j.payload = std::move(s.payload);
  j.queue = std::move(s.queue);
  j.priority = s.priority;
  j.max_retries = s.max_retries.value_or(cfg.max_retries);
  j.run_at = s.run_at.value_or(t);
  j.timeout = s.timeout.value_or(0);
  j.env = std::move(s.env);
  j.cwd = std::move(s.cwd);
  j.created_at = t;
  j.updated_at = t;
  return j;
}

/// The spec of a stored job, so an update can be checked as the spec it would leave.
inline job_spec spec_of(const job& j) {
  job_spec s;
  s.id = j.id;
  s.command = j.command;
  s.executor = j.executor;
  s.payload = j.payload;
  s.queue = j.queue;
  s.priority = j.priority;
  s.max_retries = j.max_retries;
  s.run_at = j.run_at;
  s.timeout = j.timeout;
  s.env = j.env;
  s.cwd = j.cwd;
  return s;
}

/// Sets the fields `p` changes (its state is not a spec field: the queue moves it).
inline void apply_patch(job_spec& s, const job_patch& p) {
  if (p.command) s.command = *p.command;
  if (p.executor) s.executor = *p.executor;
  if (p.payload) s.payload = *p.payload;
  if (p.queue) s.queue = *p.queue;
  if (p.priority) s.priority = *p.priority;
  if (p.max_retries) s.max_retries = *p.max_retries;
  if (p.run_at) s.run_at = *p.run_at;
  if (p.timeout) s.timeout = *p.timeout;
  if (p.env) s.env = *p.env;
  if (p.cwd) s.cwd = *p.cwd;
}

}  // namespace queuectl::detail
