// What the read commands show (`status`, `metrics`, `config`), gathered once and then
// printed as text (text_views.hpp) or JSON (json_output.hpp).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::app {

/// Everything `status` prints.
struct status_snapshot {
  state_counts counts{};
  std::vector<worker_info> workers;
  std::map<std::string, std::size_t> waiting_by_executor;  ///< basic_queue::waiting_by_executor()
  time_point now{};
  double lease_seconds = 30;
};

/// Everything `metrics` prints.
struct metrics_snapshot {
  attempt_stats stats;
  std::optional<milliseconds> window;  ///< --since; nullopt = all time
  time_point now{};
  state_counts counts{};
  std::map<std::string, state_counts> per_queue;
};

/// One `config` entry: normalized key, effective value, whether it is persisted.
struct config_entry {
  std::string key;
  std::string value;
  bool is_set = false;
};

/// Throughput in finished attempts per minute over the window (all time: first start to
/// last finish); 0 without finished attempts.
double throughput_per_minute(const metrics_snapshot& m);

}  // namespace queuectl::app
