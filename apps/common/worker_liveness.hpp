// Whether a registered worker process still works (docs/cli.md, `status`): the rule
// `status`, the REST API and the dashboard share.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::app {

/// How a registered worker process looks (docs/cli.md, `status`).
enum class worker_liveness { alive, stale, gone };
std::string_view to_string(worker_liveness l) noexcept;

/// gone: registered from this machine (same hostname) and its pid is no longer that
/// process — checked at once, without waiting for the heartbeat; stale: its heartbeat is
/// older than max(3 × lease, 10 s); else alive.
worker_liveness liveness_of(const worker_info& w, time_point now, double lease_seconds);
/// liveness_of(...) == alive.
bool worker_is_fresh(const worker_info& w, time_point now, double lease_seconds);

/// Sum of the slots of the fresh workers: the `active: N` of `status`.
int active_slots(const std::vector<worker_info>& workers, time_point now, double lease_seconds);

/// Of the jobs waiting to run per executor (`waiting`, from waiting_by_executor()), those
/// whose executor no fresh worker process claims for: they stay pending until a host with
/// that executor plugin runs (claims are executor-aware).
std::map<std::string, std::size_t> missing_executors(const std::map<std::string, std::size_t>& waiting,
                                                     const std::vector<worker_info>& workers, time_point now,
                                                     double lease_seconds);

}  // namespace queuectl::app
