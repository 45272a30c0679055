/// @file
/// @brief Helpers behind the plugin export macros (not for direct use).
#pragma once

#include <exception>
#include <string>

#include <boost/dll/alias.hpp>

#include "queuectl/plugin/abi.hpp"

namespace queuectl::detail {

/// Creates a `Plugin` as a `Base*`, turning any exception into nullptr plus `error`, so
/// that nothing is thrown across the library boundary.
template <class Plugin, class Base>
Base* guarded_create(std::string& error) noexcept {
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

}  // namespace queuectl::detail

/// Exports `PluginClass` as a `Base` through `factory_alias`, with the ABI version and the
/// toolchain tag the loader checks first. Behind QUEUECTL_EXECUTOR_PLUGIN and
/// QUEUECTL_EXPORTER_PLUGIN; one per library.
#define QUEUECTL_DETAIL_EXPORT_PLUGIN(PluginClass, Base, factory_alias)                                \
  namespace queuectl_plugin_exports {                                                                  \
  inline Base* create(std::string& error) noexcept {                                                   \
    return ::queuectl::detail::guarded_create<PluginClass, Base>(error);                               \
  }                                                                                                    \
  inline int abi_version() { return ::queuectl::detail::exported_abi_version(); }                     \
  inline const char* toolchain() { return ::queuectl::detail::exported_toolchain(); }                 \
  }                                                                                                    \
  BOOST_DLL_ALIAS(queuectl_plugin_exports::abi_version, queuectl_plugin_abi_version)                   \
  BOOST_DLL_ALIAS(queuectl_plugin_exports::toolchain, queuectl_plugin_toolchain)                       \
  BOOST_DLL_ALIAS(queuectl_plugin_exports::create, factory_alias)
