// The CLI's text output of jobs, attempts, status, metrics and config (docs/cli.md).
#pragma once

#include <string>
#include <vector>

#include "queuectl/job.hpp"
#include "queuectl/storage_types.hpp"
#include "snapshots.hpp"

namespace queuectl::app {

/// Table of jobs: ID STATE ATTEMPTS PRIORITY QUEUE RUN_AT COMMAND (header even when empty).
std::string jobs_table(const std::vector<job>& jobs);
/// `show`: every field, then one line per attempt.
std::string job_text(const job& j, const std::vector<attempt_record>& attempts);
/// `logs`: per attempt a header `=== attempt N  exit_code=C  outcome=…` then its output.
std::string attempts_log_text(const std::vector<attempt_record>& attempts);
/// `status`: `  pending: N` lines for all six states, then `workers:` with `  active: N`.
std::string status_text(const status_snapshot& s);
std::string metrics_text(const metrics_snapshot& m);
std::string config_text(const std::vector<config_entry>& entries);

}  // namespace queuectl::app
