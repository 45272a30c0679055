/// @file
/// @brief The plugin ABI: version number and toolchain tag every plugin exports.
///
/// Plugins are C++ shared libraries exchanging std::string and friends with the host, so
/// host and plugin must be built by the same compiler family and major version, with the
/// same standard library ABI. The loader reads both values before touching anything else
/// and refuses a plugin whose values differ from its own.
#pragma once

#define QUEUECTL_PLUGIN_STRINGIFY2(x) #x
#define QUEUECTL_PLUGIN_STRINGIFY(x) QUEUECTL_PLUGIN_STRINGIFY2(x)

/// Bumped whenever executor_plugin, exporter_plugin, job, attempt_result or
/// execution_context change layout. 2: run/check hooks behind guarded execute/validate;
/// exporter plugins. 3: executor configure/setup (plugin options).
#define QUEUECTL_PLUGIN_ABI_VERSION 3

#if defined(__clang__)
#define QUEUECTL_PLUGIN_COMPILER "clang-" QUEUECTL_PLUGIN_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define QUEUECTL_PLUGIN_COMPILER "gcc-" QUEUECTL_PLUGIN_STRINGIFY(__GNUC__)
#else
#define QUEUECTL_PLUGIN_COMPILER "unknown"
#endif

#if defined(_GLIBCXX_USE_CXX11_ABI)
#define QUEUECTL_PLUGIN_STDLIB "libstdc++-cxx11abi" QUEUECTL_PLUGIN_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define QUEUECTL_PLUGIN_STDLIB "libc++"
#else
#define QUEUECTL_PLUGIN_STDLIB "stdlib-unknown"
#endif

/// e.g. `gcc-12/libstdc++-cxx11abi1/c++202002`
#define QUEUECTL_PLUGIN_TOOLCHAIN \
  QUEUECTL_PLUGIN_COMPILER "/" QUEUECTL_PLUGIN_STDLIB "/c++" QUEUECTL_PLUGIN_STRINGIFY(__cplusplus)

namespace queuectl::plugin_abi {

/// Exported alias names (Boost.DLL `BOOST_DLL_ALIAS`).
inline constexpr const char* version_symbol = "queuectl_plugin_abi_version";
inline constexpr const char* toolchain_symbol = "queuectl_plugin_toolchain";
inline constexpr const char* executor_factory_symbol = "queuectl_executor_factory";

/// Types behind the exported aliases. The factory never throws: it returns nullptr and
/// describes the problem in `error`.
using version_fn = int();
using toolchain_fn = const char*();

}  // namespace queuectl::plugin_abi
