// The executor plugins' check of job specs at enqueue time: `queuectl enqueue` and the
// REST API run the same rules.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "queuectl/job.hpp"
#include "queuectl/plugin/loader.hpp"

namespace queuectl::app {

/// Asks each job's executor plugin whether it can ever run the job (an http job without
/// a url, say), so such a job is refused now rather than failing on a host later. The
/// shell executor is checked by the codec; an executor whose plugin is not installed here
/// (it may live only on the hosts) is accepted. Plugins are loaded once and kept (a
/// server is long-lived).
class spec_validator {
 public:
  /// Throws queuectl::error (invalid_input, queuectl.spec.rejected_by_executor).
  void validate(const std::vector<job_spec>& specs);

 private:
  std::mutex mu_;
  std::optional<plugin_loader> loader_;
  std::map<std::string, std::shared_ptr<executor_plugin>, std::less<>> plugins_;  ///< null: not installed
};

}  // namespace queuectl::app
