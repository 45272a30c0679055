// The executor plugins' check of job specs, as `queuectl enqueue` runs it, for the API.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "queuectl/job.hpp"
#include "queuectl/plugin/loader.hpp"

namespace queuectl::web {

/// Asks each job's executor plugin whether it can ever run the job (an http job without
/// a url, say), so the API refuses it now rather than a host failing it later. Same rules
/// as the CLI's validate_with_plugins (apps/queuectl/cmd_enqueue.cpp): shell is checked by
/// the codec; an executor whose plugin is not installed here (it may live only on the
/// hosts) is accepted. Plugins are loaded once and kept, since the server is long-lived.
class spec_validator {
 public:
  /// Throws queuectl::error (invalid_input, queuectl.spec.rejected_by_executor).
  void validate(const std::vector<job_spec>& specs);

 private:
  std::mutex mu_;
  std::optional<plugin_loader> loader_;
  std::map<std::string, std::shared_ptr<executor_plugin>, std::less<>> plugins_;  ///< null: not installed
};

}  // namespace queuectl::web
