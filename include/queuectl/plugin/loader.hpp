/// @file
/// @brief Finds executor and exporter plugins by name or path and loads them with Boost.DLL.
#pragma once

#ifndef BOOST_DLL_USE_STD_FS
#define BOOST_DLL_USE_STD_FS
#endif
#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "queuectl/error.hpp"
#include "queuectl/plugin/executor_plugin.hpp"
#include "queuectl/plugin/exporter_plugin.hpp"
#include "queuectl/plugin/detail/file_check.hpp"

namespace queuectl {

/// @brief Loads plugins. A plugin named `NAME` is the file `libqueuectl_NAME.so`, looked
/// for in order in: the extra directories given, each directory of `QUEUECTL_PLUGIN_PATH`
/// (colon-separated), the build tree next to the running executable (`<exe>/../plugins`,
/// `<exe>/../../plugins`) and the install prefix (`<exe>/../lib/queuectl/plugins`). A name
/// containing `/` is a path.
///
/// Before `dlopen` the file must be a regular file and a sane ELF library for this machine
/// (detail/file_check.hpp): special files are never opened in a way that blocks.
/// Every failure is a queuectl::error (invalid_input) with its own id:
/// `queuectl.plugin.not_found`, `.not_a_file`, `.unreadable`, `.truncated`, `.not_loadable`,
/// `.not_a_plugin`, `.abi_mismatch`, `.toolchain_mismatch`, `.no_factory`, `.factory_failed`,
/// `.factory_threw`.
class plugin_loader {
 public:
  explicit plugin_loader(std::vector<std::string> extra_dirs = {}) : dirs_(std::move(extra_dirs)) {
    if (const char* env = std::getenv("QUEUECTL_PLUGIN_PATH")) {
      std::string all(env);
      for (std::size_t start = 0; start <= all.size();) {
        const std::size_t colon = std::min(all.find(':', start), all.size());
        if (colon > start) dirs_.push_back(all.substr(start, colon - start));
        start = colon + 1;
      }
    }
    std::error_code ec;
    const auto exe_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
    if (!ec) {
      for (const auto& d : {exe_dir / ".." / "plugins", exe_dir / ".." / ".." / "plugins",
                            exe_dir / ".." / "lib" / "queuectl" / "plugins"}) {
        dirs_.push_back(d.lexically_normal().string());
        builtin_dirs_.push_back(d.lexically_normal());
      }
    }
  }

  /// One of the plugins queuectl ships (shell, http, prometheus), found where queuectl
  /// installs them (next to the binary); anything else is third-party (docs/plugins.md,
  /// "Isolation"). Decided by location and name, before the library is loaded.
  bool is_bundled(const std::filesystem::path& resolved) const {
    const std::string file = resolved.filename().string();
    if (file != file_name("shell") && file != file_name("http") && file != file_name("prometheus")) return false;
    const auto dir = resolved.parent_path().lexically_normal();
    for (const auto& d : builtin_dirs_)
      if (dir == d) return true;
    return false;
  }

  /// The file name a plugin called `name` has.
  static std::string file_name(const std::string& name) { return "libqueuectl_" + name + ".so"; }

  /// Where `name_or_path` resolves to; throws not_found listing the directories searched.
  std::filesystem::path locate(const std::string& name_or_path) const {
    if (name_or_path.find('/') != std::string::npos) {
      if (!detail::path_taken(name_or_path))
        throw error(error_kind::invalid_input, "queuectl.plugin.not_found", "plugin file " + name_or_path + " does not exist");
      return std::filesystem::absolute(name_or_path);
    }
    std::string searched;
    for (const auto& d : dirs_) {
      const auto p = std::filesystem::path(d) / file_name(name_or_path);
      if (detail::path_taken(p.string())) return p;
      searched += (searched.empty() ? "" : ", ") + d;
    }
    throw error(error_kind::invalid_input, "queuectl.plugin.not_found",
                "plugin '" + name_or_path + "' not found (looked for " + file_name(name_or_path) + " in: " + searched + ")");
  }

  /// Loads and instantiates an executor plugin. The library stays loaded for as long as
  /// the returned object (or any copy of the pointer) lives.
  std::shared_ptr<executor_plugin> load_executor(const std::string& name_or_path) const {
    const auto lib = open(locate(name_or_path));
    if (!lib->has(plugin_abi::executor_factory_symbol))
      throw error(error_kind::invalid_input, "queuectl.plugin.no_factory",
                  lib->location().string() + " exports no executor factory (" + plugin_abi::executor_factory_symbol + ")");
    return create<executor_plugin>(lib, plugin_abi::executor_factory_symbol);
  }

  /// Loads and instantiates an exporter plugin (same lifetime rule).
  std::shared_ptr<exporter_plugin> load_exporter(const std::string& name_or_path) const {
    const auto lib = open(locate(name_or_path));
    if (!lib->has(plugin_abi::exporter_factory_symbol))
      throw error(error_kind::invalid_input, "queuectl.plugin.no_factory",
                  lib->location().string() + " exports no exporter factory (" + plugin_abi::exporter_factory_symbol + ")");
    return create<exporter_plugin>(lib, plugin_abi::exporter_factory_symbol);
  }

  /// What `--plugin NAME` gives: whichever kinds the library exports (at least one).
  struct loaded_plugin {
    std::shared_ptr<executor_plugin> executor;
    std::shared_ptr<exporter_plugin> exporter;
  };
  loaded_plugin load(const std::string& name_or_path) const {
    const auto lib = open(locate(name_or_path));
    loaded_plugin out;
    if (lib->has(plugin_abi::executor_factory_symbol))
      out.executor = create<executor_plugin>(lib, plugin_abi::executor_factory_symbol);
    if (lib->has(plugin_abi::exporter_factory_symbol))
      out.exporter = create<exporter_plugin>(lib, plugin_abi::exporter_factory_symbol);
    if (!out.executor && !out.exporter)
      throw error(error_kind::invalid_input, "queuectl.plugin.no_factory",
                  lib->location().string() + " exports neither an executor factory (" +
                      plugin_abi::executor_factory_symbol + ") nor an exporter factory (" +
                      plugin_abi::exporter_factory_symbol + ")");
    return out;
  }

  const std::vector<std::string>& search_dirs() const { return dirs_; }

 private:
  using library = std::shared_ptr<boost::dll::shared_library>;

  /// Loads the file and checks the ABI version and toolchain tag before anything else in
  /// the library is touched.
  static library open(const std::filesystem::path& path) {
    detail::check_plugin_file(path.string());
    auto lib = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec || !lib->is_loaded()) {
      const char* why = ::dlerror();
      throw error(error_kind::invalid_input, "queuectl.plugin.not_loadable",
                  "cannot load plugin " + path.string() + ": " + (why ? std::string(why) : ec.message()));
    }
    if (!lib->has(plugin_abi::version_symbol))
      throw error(error_kind::invalid_input, "queuectl.plugin.not_a_plugin",
                  path.string() + " is not a queuectl plugin (it exports no " + plugin_abi::version_symbol + ")");
    const int version = lib->get_alias<plugin_abi::version_fn>(plugin_abi::version_symbol)();
    if (version != QUEUECTL_PLUGIN_ABI_VERSION)
      throw error(error_kind::invalid_input, "queuectl.plugin.abi_mismatch",
                  path.string() + " was built for plugin ABI version " + std::to_string(version) + ", this host needs " +
                      std::to_string(QUEUECTL_PLUGIN_ABI_VERSION) + ": rebuild it against this queuectl");
    if (!lib->has(plugin_abi::toolchain_symbol))
      throw error(error_kind::invalid_input, "queuectl.plugin.not_a_plugin",
                  path.string() + " is not a queuectl plugin (it exports no " + plugin_abi::toolchain_symbol + ")");
    const std::string toolchain = lib->get_alias<plugin_abi::toolchain_fn>(plugin_abi::toolchain_symbol)();
    if (toolchain != QUEUECTL_PLUGIN_TOOLCHAIN)
      throw error(error_kind::invalid_input, "queuectl.plugin.toolchain_mismatch",
                  path.string() + " was built with " + toolchain + ", this host with " + QUEUECTL_PLUGIN_TOOLCHAIN +
                      ": plugins must be built with the host's toolchain");
    return lib;
  }

  /// Calls the factory behind `symbol`; the returned object's deleter owns the library,
  /// so it is unloaded only after the last object it made is gone.
  template <class Plugin>
  static std::shared_ptr<Plugin> create(const library& lib, const char* symbol) {
    auto& factory = lib->get_alias<Plugin*(std::string&)>(symbol);
    std::string why;
    Plugin* raw = nullptr;
    try {
      raw = factory(why);
    } catch (const std::exception& e) {  // a factory written without the export macro
      why = std::string("factory threw: ") + e.what();
    } catch (...) {
      why = "factory threw an unknown exception";
    }
    if (!raw) {
      const bool threw = why.rfind("factory threw", 0) == 0;
      throw error(error_kind::invalid_input, threw ? "queuectl.plugin.factory_threw" : "queuectl.plugin.factory_failed",
                  "plugin " + lib->location().string() + ": " + (why.empty() ? "factory returned no object" : why));
    }
    return std::shared_ptr<Plugin>(raw, [lib](Plugin* p) { delete p; });
  }

  std::vector<std::string> dirs_;
  std::vector<std::filesystem::path> builtin_dirs_;  ///< where bundled plugins live
};

}  // namespace queuectl
