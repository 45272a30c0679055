/// @file
/// @brief The interface an executor plugin implements, and the macro that exports it.
#pragma once

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include <exception>
#include <string>
#include <string_view>

#include "queuectl/execution_context.hpp"
#include "queuectl/job.hpp"
#include "queuectl/plugin/abi.hpp"

namespace queuectl {

/// @brief An executor loaded from a shared library (Boost.DLL tutorial2 style).
///
/// Rules (see docs/plugins.md): `execute` is called concurrently from several worker
/// threads, so it must be thread-safe; nothing may throw out of any member (the
/// QUEUECTL_EXECUTOR_PLUGIN macro and the loader add guards, but a plugin should report
/// failures in attempt_result); objects are destroyed by the host while the library is
/// still loaded.
class BOOST_SYMBOL_VISIBLE executor_plugin {
 public:
  virtual ~executor_plugin() = default;
  /// The executor name jobs use (`"executor": "shell"`).
  virtual std::string_view name() const noexcept = 0;
  /// Runs one attempt. Must honour `ctx.stop` and `ctx.timeout`.
  virtual attempt_result execute(const job& j, const execution_context& ctx) noexcept = 0;
  /// Checks a spec at enqueue time (e.g. a payload without `url`); empty string = valid.
  virtual std::string validate(const job_spec&) const noexcept { return {}; }
};

namespace plugin_abi {
/// The exported factory: a new plugin object, or nullptr with `error` set.
using executor_factory_fn = executor_plugin*(std::string& error);
}  // namespace plugin_abi

namespace detail {
template <class Plugin>
executor_plugin* guarded_create(std::string& error) noexcept {
  try {
    return new Plugin();
  } catch (const std::exception& e) {
    error = std::string("factory threw: ") + e.what();
  } catch (...) {
    error = "factory threw an unknown exception";
  }
  return nullptr;
}
inline int exported_abi_version() { return QUEUECTL_PLUGIN_ABI_VERSION; }
inline const char* exported_toolchain() { return QUEUECTL_PLUGIN_TOOLCHAIN; }
}  // namespace detail

}  // namespace queuectl

/// Exports `PluginClass` (default-constructible, derived from queuectl::executor_plugin)
/// with the ABI version and toolchain tag. Use once per plugin library, at namespace scope.
#define QUEUECTL_EXECUTOR_PLUGIN(PluginClass)                                                          \
  namespace queuectl_plugin_exports {                                                                  \
  inline ::queuectl::executor_plugin* create_executor(std::string& error) noexcept {                   \
    return ::queuectl::detail::guarded_create<PluginClass>(error);                                     \
  }                                                                                                    \
  inline int abi_version() { return ::queuectl::detail::exported_abi_version(); }                     \
  inline const char* toolchain() { return ::queuectl::detail::exported_toolchain(); }                 \
  }                                                                                                    \
  BOOST_DLL_ALIAS(queuectl_plugin_exports::abi_version, queuectl_plugin_abi_version)                   \
  BOOST_DLL_ALIAS(queuectl_plugin_exports::toolchain, queuectl_plugin_toolchain)                       \
  BOOST_DLL_ALIAS(queuectl_plugin_exports::create_executor, queuectl_executor_factory)
