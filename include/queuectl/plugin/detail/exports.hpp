/// @file
/// @brief Helpers behind the plugin export macros (not for direct use).
#pragma once

#include <exception>
#include <string>

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
