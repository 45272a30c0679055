/// @file
/// @brief Executor policy that dispatches each job to the plugin named by `job.executor`.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/error.hpp"
#include "queuectl/plugin/executor_plugin.hpp"
#include "queuectl/plugin/isolated_executor.hpp"

namespace queuectl {

/// @brief Holds loaded executor plugins by name; `execute` picks one per job.
///
/// Plugins are added before workers start and never removed, so concurrent `execute`
/// calls need no lock (the plugins themselves must be thread-safe).
class plugin_executor {
 public:
  /// Adds a loaded plugin; a second plugin with the same name is an error.
  void add(std::shared_ptr<executor_plugin> p) {
    std::string name(p->name());
    if (plugins_.count(name))
      throw error(error_kind::invalid_input, "queuectl.plugin.duplicate", "two plugins are named '" + name + "'");
    plugins_.emplace(std::move(name), std::move(p));
  }

  /// Adds a plugin that runs in helper processes (isolated_executor.hpp).
  void add(std::shared_ptr<isolated_executor> p) {
    add(std::shared_ptr<executor_plugin>(p));
    isolated_.push_back(std::move(p));
  }

  /// For the worker's deadline enforcement: kills the helper process running `job_id`
  /// if its plugin is isolated, so that attempt returns now with `reason`. False if the
  /// job runs in-process (or not at all): then only its stop token can end it.
  bool abandon(const std::string& job_id, const std::string& reason, bool timed_out = true) {
    for (auto& p : isolated_)
      if (p->abandon(job_id, reason, timed_out)) return true;
    return false;
  }

  /// After fork() (daemonizing): idle helpers belong to the parent; start new ones.
  void after_fork() {
    for (auto& p : isolated_) p->drop_idle_helpers();
  }

  /// Hands each plugin its options (by plugin name; plugins not in `options` get none);
  /// "" or the first plugin's one-line refusal.
  std::string configure(const std::map<std::string, std::map<std::string, std::string>>& options) {
    static const std::map<std::string, std::string> none;
    for (auto& [name, p] : plugins_) {
      auto it = options.find(name);
      if (std::string why = p->configure(it == options.end() ? none : it->second); !why.empty()) return why;
    }
    return {};
  }

  /// Whether the executor `name` runs in helper processes.
  bool isolated(std::string_view name) const {
    for (auto& p : isolated_)
      if (p->name() == name) return true;
    return false;
  }

  bool has(std::string_view name) const { return plugins_.find(std::string(name)) != plugins_.end(); }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [n, _] : plugins_) out.push_back(n);
    return out;
  }

  /// Runs the job on its plugin; a job for an executor this host does not have fails
  /// permanently (retrying on the same host cannot help).
  attempt_result execute(const job& j, const execution_context& ctx) {
    auto it = plugins_.find(j.executor);
    if (it == plugins_.end())
      return attempt_result::failure("no executor plugin '" + j.executor + "' is loaded on this host", true);
    return it->second->execute(j, ctx);
  }

  /// The plugin's opinion of a spec (empty = fine, or the plugin is not loaded here).
  std::string validate(const job_spec& s) const {
    auto it = plugins_.find(s.executor);
    return it == plugins_.end() ? std::string() : it->second->validate(s);
  }

 private:
  std::map<std::string, std::shared_ptr<executor_plugin>, std::less<>> plugins_;
  std::vector<std::shared_ptr<isolated_executor>> isolated_;
};
static_assert(executor_policy<plugin_executor>);

}  // namespace queuectl
