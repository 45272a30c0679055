// The prometheus exporter's state: counters and histograms fed by host events, rendered
// in the Prometheus text exposition format (version 0.0.4).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "queuectl/plugin/exporter_plugin.hpp"

namespace queuectl::prometheus {

/// Fixed-bucket histogram (seconds). Bucket bounds suit jobs from 1 ms to 10 min.
class histogram {
 public:
  static constexpr std::array<double, 14> bounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,     2.5,  5,     10,   60,  600};
  void observe(double seconds) {
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) ++i;
    ++buckets_[i];
    sum_ += seconds;
    ++count_;
  }
  /// Appends `<name>_bucket{labels,le=…}`, `_sum` and `_count` lines.
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::uint64_t, bounds.size() + 1> buckets_{};  // last: +Inf only
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

/// Everything /metrics shows. Thread-safe: events arrive from worker threads, renders
/// from the HTTP thread.
class metrics_registry {
 public:
  explicit metrics_registry(int slots) : total_slots_(slots) {}

  void attempt_started(const attempt_event& e);
  void attempt_finished(const attempt_event& e);
  void snapshot(const queue_snapshot& s);
  std::string render() const;

 private:
  using executor_outcome = std::tuple<std::string, std::string, std::string>;  // queue, executor, outcome
  mutable std::mutex mu_;
  int total_slots_;
  std::size_t busy_slots_ = 0;
  std::map<std::pair<std::string, std::string>, std::uint64_t> started_;  // (queue, executor)
  std::map<executor_outcome, std::uint64_t> finished_;
  std::map<std::pair<std::string, std::string>, histogram> duration_;  // (queue, executor)
  std::map<std::string, histogram> wait_;                              // queue
  std::vector<queue_snapshot::per_queue> jobs_;
  bool have_snapshot_ = false;
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
};

/// Escapes a label value (backslash, double quote, newline) per the exposition format.
std::string escape_label(std::string_view v);

}  // namespace queuectl::prometheus
