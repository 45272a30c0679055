// Plugin options from the command line (--plugin-opt NAME.KEY=VALUE) and from a file
// (--plugin-config FILE): docs/plugins.md, "Plugin options".
#pragma once

#include <map>
#include <string>

namespace queuectl::app {

/// Options by plugin name, then key.
using plugin_option_map = std::map<std::string, std::map<std::string, std::string>>;

/// Adds one `NAME.KEY=VALUE` (a later value for the same key wins). Throws
/// queuectl::error (invalid_input, queuectl.plugin.bad_option_syntax) naming the problem.
void add_plugin_opt(plugin_option_map& out, const std::string& name_key_value);

/// Reads `[NAME]` sections of `KEY = VALUE` lines (`#` and `;` start comments). Only a
/// regular file is read (a FIFO would block). Throws queuectl::error (invalid_input) with
/// FILE:LINE and the problem.
plugin_option_map read_plugin_config(const std::string& path);

}  // namespace queuectl::app
