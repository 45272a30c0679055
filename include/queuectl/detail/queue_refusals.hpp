/// @file
/// @brief Why basic_queue refuses to act on a job: the errors of cancel, dlq retry, remove
/// and update, each with its stable id (kind and id as docs/cli.md lists them for the CLI).
#pragma once

#include <string>

#include "queuectl/error.hpp"
#include "queuectl/job.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl::detail {

inline error job_not_found(const std::string& id) {
  return error(error_kind::not_found, "queuectl.queue.not_found", "no job with id '" + id + "'");
}

/// `what` (e.g. "cancel") cannot be done to a job that is already `state` (a final one).
inline error job_already_final(const std::string& id, const char* what, job_state state) {
  return error(error_kind::conflict, "queuectl.queue.final",
               std::string("cannot ") + what + " job '" + id + "': it is already " + std::string(to_string(state)));
}

/// Only a dead job can be retried from the dead-letter queue.
inline error job_not_dead(const std::string& id, job_state state) {
  return error(error_kind::conflict, "queuectl.queue.not_dead",
               "job '" + id + "' is " + std::string(to_string(state)) + ", not dead");
}

/// A running job is its worker's: `advice` says what to do first.
inline error job_running(const std::string& id, const char* advice) {
  return error(error_kind::conflict, "queuectl.queue.running", "job '" + id + "' is running; " + advice);
}

/// An update can move a job only to pending or canceled (invalid_input otherwise).
inline void check_update_target(const job_patch& patch) {
  if (patch.state && *patch.state != job_state::pending && *patch.state != job_state::canceled)
    throw error(error_kind::invalid_input, "queuectl.update.state",
                "state: a job can be moved only to pending or canceled, not " + std::string(to_string(*patch.state)));
}

/// Whether a job in `from` may move to `to` (pending or canceled): to pending from any other
/// state, to canceled only from pending or failed. Throws conflict when not.
inline void check_update_move(const std::string& id, job_state from, job_state to) {
  const bool ok = to == job_state::pending ? from != job_state::pending
                                           : from == job_state::pending || from == job_state::failed;
  if (!ok)
    throw error(error_kind::conflict, "queuectl.update.move",
                "job '" + id + "' is " + std::string(to_string(from)) + ": it cannot move to " +
                    std::string(to_string(to)) +
                    (to == job_state::canceled ? " (only pending and failed jobs can be canceled)" : ""));
}

/// The job changed under every retry of an update (claimed, finished, changed again).
inline error update_kept_changing(const std::string& id) {
  return error(error_kind::conflict, "queuectl.update.busy", "job '" + id + "' keeps changing; try again");
}

}  // namespace queuectl::detail
