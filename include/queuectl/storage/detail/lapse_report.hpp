/// @file
/// @brief What the queue writes about a lapsed lease (reclaim_lapsed): one rule for
/// when a job is dead (max-recoveries) and one wording, naming the worker the job was on
/// and the other jobs that were running in the same host process then (docs/cli.md,
/// `max-recoveries`), so the culprit of a host crash can be told from its neighbours.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "queuectl/storage_types.hpp"

namespace queuectl::detail {

/// A job whose lease lapsed: its id, lease owner (`host:pid:suffix/slot`) and how many
/// times (this one included) its lease has lapsed.
using lapsed_job = lapsed_lease;

/// A job is dead once its host has died (or stalled) under it `max_recoveries` times
/// (0 counts as 1): a job that crashes its hosts cannot crash-loop a fleet.
inline bool lapsed_too_often(int lapses, int max_recoveries) { return lapses >= std::max(1, max_recoveries); }

/// The host-process part of a lease owner (`host:pid:suffix` of `host:pid:suffix/slot`).
inline std::string owner_process(const std::string& owner) {
  const auto slash = owner.rfind('/');
  return slash == std::string::npos ? owner : owner.substr(0, slash);
}

/// For each lapsed job: the attempt's error (`lost`) and, when it is dead, its last_error.
struct lapse_texts {
  std::string attempt_error;
  std::string dead_error;
};

/// Builds the texts for a batch of jobs lapsed in one reclaim pass. Jobs of the same host
/// process lapse together when it dies: each names the others ("also running there").
inline std::map<std::string, lapse_texts> describe_lapses(const std::vector<lapsed_job>& lapsed, int max_recoveries) {
  std::map<std::string, std::vector<const lapsed_job*>> by_process;
  for (const auto& l : lapsed) by_process[owner_process(l.owner)].push_back(&l);
  std::map<std::string, lapse_texts> out;
  for (const auto& l : lapsed) {
    std::string beside;
    int listed = 0, more = 0;
    for (const lapsed_job* o : by_process[owner_process(l.owner)]) {
      if (o == &l) continue;
      if (listed == 5) {
        ++more;
        continue;
      }
      beside += (listed++ ? ", " : "") + o->id + " on " + o->owner;
    }
    if (more) beside += " and " + std::to_string(more) + " more";
    const std::string where = "worker " + (l.owner.empty() ? std::string("?") : l.owner);
    const std::string also = beside.empty() ? std::string() : "; also running in that host process: " + beside;
    lapse_texts t;
    t.attempt_error = "lease lapsed: " + where + " died or stalled" + also;
    if (lapsed_too_often(l.lapses, max_recoveries))
      t.dead_error = "its host died or stalled while running it " + std::to_string(l.lapses) + " time" +
                     (l.lapses == 1 ? "" : "s") + " (max-recoveries " + std::to_string(max_recoveries) +
                     "), the last time on " + where + also;
    out[l.id] = std::move(t);
  }
  return out;
}

}  // namespace queuectl::detail
