/// @file
/// @brief The queue's decision for jobs whose lease lapsed (their worker died or
/// stalled): back to pending, or dead at the max-recoveries-th lapse. Storages only
/// report lapsed leases and perform the transition decided here.
#pragma once

#include "queuectl/concepts.hpp"
#include "queuectl/storage/detail/lapse_report.hpp"

namespace queuectl {

/// Reclaims every lease of `s` that lapsed before `now`: a job is dead once its lease has
/// lapsed `max_recoveries` times (0 counts as 1), else due again at `now`. Its attempt is
/// recorded `lost`, naming the worker and the jobs that ran beside it in that host
/// process (docs/cli.md, `max-recoveries`). A job finished or renewed meanwhile is left
/// alone and not counted.
template <job_store S>
reclaim_result reclaim_lapsed(S& s, time_point now, int max_recoveries) {
  reclaim_result res;
  const std::vector<lapsed_lease> lapsed = s.lapsed_leases(now);
  if (lapsed.empty()) return res;
  const auto texts = detail::describe_lapses(lapsed, max_recoveries);
  for (const lapsed_lease& l : lapsed) {
    const detail::lapse_texts& t = texts.at(l.id);
    lapse_recovery r;
    r.id = l.id;
    r.owner = l.owner;
    r.now = now;
    r.lapses = l.lapses;
    r.dead = detail::lapsed_too_often(l.lapses, max_recoveries);
    r.attempt_error = t.attempt_error;
    r.dead_error = t.dead_error;
    if (s.recover_lapsed(r)) ++(r.dead ? res.dead : res.requeued);
  }
  return res;
}

}  // namespace queuectl
