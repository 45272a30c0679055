#include "spec_validation.hpp"

#include "queuectl/error.hpp"

namespace queuectl::app {

void spec_validator::validate(const std::vector<job_spec>& specs) {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const job_spec& s = specs[i];
    if (s.executor == "shell") continue;
    auto it = plugins_.find(s.executor);
    if (it == plugins_.end()) {
      if (!loader_) loader_.emplace();
      std::shared_ptr<executor_plugin> p;
      try {
        p = loader_->load_executor(s.executor);
      } catch (const error& e) {
        if (e.id() != "queuectl.plugin.not_found") throw;
      }
      it = plugins_.emplace(s.executor, std::move(p)).first;
    }
    if (!it->second) continue;
    if (std::string why = it->second->validate(s); !why.empty())
      throw error(error_kind::invalid_input, "queuectl.spec.rejected_by_executor",
                  (specs.size() > 1 ? "job " + std::to_string(i + 1) + ": " : std::string()) + why);
  }
}

}  // namespace queuectl::app
