// The exporter plugins a host loaded, fed with attempt events and queue snapshots.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "queuectl/plugin/exporter_plugin.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl::app {

class exporter_set {
 public:
  explicit exporter_set(std::vector<std::shared_ptr<exporter_plugin>> exporters) : exporters_(std::move(exporters)) {}
  ~exporter_set() { stop(); }

  bool empty() const { return exporters_.empty(); }
  /// Starts every exporter with its own options (by exporter name); "" or the first
  /// one-line failure (those started are stopped).
  std::string start(const worker_info& host, const std::map<std::string, std::map<std::string, std::string>>& options);
  void attempt_started(const job& j);
  void attempt_finished(const job& j, const attempt_result& r, attempt_outcome outcome, time_point started,
                        time_point finished);
  void snapshot(const std::map<std::string, state_counts>& by_queue, std::size_t busy, std::size_t total);
  void stop();

 private:
  std::vector<std::shared_ptr<exporter_plugin>> exporters_;
  bool started_ = false;
};

}  // namespace queuectl::app
