/// @file
/// @brief How worker_pool records an attempt's end: by why it was stopped, if it was, and
/// for an abandoned executor call without its result (worker_pool's class doc).
// Member definitions of worker_pool, included at the end of queuectl/worker_pool.hpp.
#pragma once

#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "queuectl/detail/attempt_results.hpp"
#include "queuectl/detail/running_attempt.hpp"
#include "queuectl/job.hpp"
#include "queuectl/worker_pool.hpp"

namespace queuectl {

template <queue_like Queue>
void worker_pool<Queue>::finish_attempt(const job& j, const std::string& owner, const attempt_result& r,
                                        stop_reason reason, double timeout, time_point started, time_point finished) {
  attempt_result recorded = r;
  attempt_outcome outcome = detail::outcome_of(r);
  bool written = true;
  switch (reason) {
    case stop_reason::timed_out:  // the deadline counts, whatever the executor returned
      recorded = detail::timed_out_result(r, timeout, "");
      outcome = attempt_outcome::timed_out;
      retrying([&] { written = queue_.report(j, owner, recorded); });
      break;
    case stop_reason::canceled:  // recorded by the cancel itself
      outcome = attempt_outcome::canceled;
      break;
    case stop_reason::lost:  // recorded by whoever took the lease
      outcome = attempt_outcome::lost;
      break;
    case stop_reason::aborted:
    case stop_reason::none:
      if ((reason == stop_reason::aborted || aborting_.load()) && !r.success) {
        retrying([&] { queue_.release(j.id, owner); });
        outcome = attempt_outcome::released;
      } else {
        retrying([&] { written = queue_.report(j, owner, r); });
      }
      break;
  }
  if (!written) outcome = why_not_ours(j.id);
  if (opts_.on_finish) opts_.on_finish(j, recorded, outcome, started, finished);
}

template <queue_like Queue>
void worker_pool<Queue>::abandon(int slot, running_job& r) {
  if (opts_.on_abandon) {
    try {
      opts_.on_abandon(r.j, r.owner);
    } catch (...) {
    }
  }
  const std::string note = "; the executor did not return within " +
                           detail::seconds_text(opts_.abandon_grace) + " of being stopped and was abandoned";
  attempt_result res;
  attempt_outcome outcome = attempt_outcome::failed;
  bool written = true;
  switch (r.reason) {
    case stop_reason::timed_out:
      res = detail::timed_out_result({}, r.timeout, note);
      outcome = attempt_outcome::timed_out;
      retrying([&] { written = queue_.report(r.j, r.owner, res); });
      break;
    case stop_reason::aborted:
      res = attempt_result::failure("stopped: the worker is stopping" + note);
      outcome = attempt_outcome::released;
      retrying([&] { queue_.release(r.j.id, r.owner); });
      break;
    case stop_reason::canceled:
      res = attempt_result::failure("canceled" + note);
      outcome = attempt_outcome::canceled;
      break;
    case stop_reason::lost:
    case stop_reason::none:
      res = attempt_result::failure("lease lost" + note);
      outcome = attempt_outcome::lost;
      break;
  }
  if (!written) outcome = why_not_ours(r.j.id);
  if (opts_.on_finish) opts_.on_finish(r.j, res, outcome, r.started_at, now());
  std::lock_guard lock(threads_mu_);
  abandoned_.push_back({std::move(threads_[static_cast<std::size_t>(slot)]), r.ticket});
  if (stopping_.load()) live_slots_.fetch_sub(1);  // the stuck thread would never count itself out
  else threads_[static_cast<std::size_t>(slot)] = std::thread([this, slot] { run_slot(slot); });
}

template <queue_like Queue>
attempt_outcome worker_pool<Queue>::why_not_ours(const std::string& id) {
  try {
    const std::optional<job> j = queue_.find(id);
    if (!j || j->state == job_state::canceled) return attempt_outcome::canceled;
  } catch (const std::exception& e) {
    storage_error(e);
  }
  return attempt_outcome::lost;
}

}  // namespace queuectl
