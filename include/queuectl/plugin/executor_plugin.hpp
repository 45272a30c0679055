/// @file
/// @brief The interface an executor plugin implements, and the macro that exports it.
#pragma once

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include <exception>
#include <map>
#include <string>
#include <string_view>

#include "queuectl/execution_context.hpp"
#include "queuectl/job.hpp"
#include "queuectl/plugin/abi.hpp"
#include "queuectl/plugin/detail/exports.hpp"

namespace queuectl {

/// @brief An executor loaded from a shared library (Boost.DLL tutorial2 style).
///
/// A plugin overrides `run` (and optionally `check`). The host calls `execute` and
/// `validate`, which are defined here and therefore compiled into the plugin: they catch
/// whatever `run`/`check` throw on the plugin's side of the boundary and turn it into a
/// failed attempt, so an exception never crosses into the host and a throwing job fails
/// that job only. Rules (see docs/plugins.md): `run` is called concurrently from several
/// worker threads, so it must be thread-safe; it must honour `ctx.stop` and
/// `ctx.timeout`; objects are destroyed by the host while the library is still loaded.
class BOOST_SYMBOL_VISIBLE executor_plugin {
 public:
  virtual ~executor_plugin() = default;
  /// The executor name jobs use (`"executor": "shell"`).
  virtual std::string_view name() const noexcept = 0;

  /// Runs one attempt (host side of the boundary; never throws).
  virtual attempt_result execute(const job& j, const execution_context& ctx) noexcept final {
    try {
      return run(j, ctx);
    } catch (const std::exception& e) {
      return attempt_result::failure(std::string(name()) + " executor threw: " + e.what());
    } catch (...) {
      return attempt_result::failure(std::string(name()) + " executor threw an unknown exception");
    }
  }
  /// Hands the plugin its own options (`--plugin-opt NAME.KEY=VALUE`, keys without the
  /// `NAME.` prefix) once, before any job; "" = accepted, else a one-line reason.
  virtual std::string configure(const std::map<std::string, std::string>& settings) noexcept final {
    try {
      return setup(settings);
    } catch (const std::exception& e) {
      return std::string(name()) + ": " + e.what();
    } catch (...) {
      return std::string(name()) + ": configure failed";
    }
  }
  /// Checks a spec at enqueue time (e.g. a payload without `url`); empty string = valid.
  virtual std::string validate(const job_spec& spec) const noexcept final {
    try {
      return check(spec);
    } catch (const std::exception& e) {
      return std::string(name()) + " executor could not check the job: " + e.what();
    } catch (...) {
      return std::string(name()) + " executor could not check the job";
    }
  }

 protected:
  /// Runs one attempt: report failures in the result (throwing also fails the attempt).
  virtual attempt_result run(const job& j, const execution_context& ctx) = 0;
  /// Returns why `spec` can never run on this executor ("" = fine).
  virtual std::string check(const job_spec&) const { return {}; }
  /// Takes this plugin's options; the default accepts none, so a misspelt option is an
  /// error rather than silently ignored.
  virtual std::string setup(const std::map<std::string, std::string>& settings) {
    if (settings.empty()) return {};
    return "plugin '" + std::string(name()) + "' takes no options (got '" + settings.begin()->first + "')";
  }
};

namespace plugin_abi {
/// The exported factory: a new plugin object, or nullptr with `error` set.
using executor_factory_fn = executor_plugin*(std::string& error);
}  // namespace plugin_abi

}  // namespace queuectl

/// Exports `PluginClass` (default-constructible, derived from queuectl::executor_plugin)
/// with the ABI version and toolchain tag. Use once per plugin library, at namespace scope.
#define QUEUECTL_EXECUTOR_PLUGIN(PluginClass) \
  QUEUECTL_DETAIL_EXPORT_PLUGIN(PluginClass, ::queuectl::executor_plugin, queuectl_executor_factory)
