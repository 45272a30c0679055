// The worker runtime: shared by `queuectl-host` and `queuectl worker start`.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace queuectl::app {

struct runtime_options {
  std::string db;                        ///< resolved database location
  int workers = 1;                       ///< worker slots (threads)
  std::vector<std::string> plugins;      ///< plugin names or paths; at least "shell"
  std::vector<std::string> plugin_dirs;  ///< extra search dirs (--plugin-dir)
  std::vector<std::string> queues;       ///< empty: all queues
  bool daemon = false;                   ///< detach (double fork before any thread starts)
  std::optional<std::string> log_file;   ///< with --daemon: where output goes
  std::optional<std::string> http_bind;  ///< --http: serve the REST API and dashboard here
  /// Host names the listeners (--http, plugins') answer besides the loopback names and
  /// their bound address (--allowed-host, QUEUECTL_ALLOWED_HOSTS); normalized.
  std::vector<std::string> allowed_hosts;
  /// Each plugin's own options by plugin name (`--plugin-opt NAME.KEY=VALUE`); a name no
  /// loaded plugin has is refused (exit 2).
  std::map<std::string, std::map<std::string, std::string>> plugin_options;
  /// --token: guards --http, and is every exporter's `token` option unless it has its own.
  std::optional<std::string> token;
  /// --isolate: "none", "third-party" (default) or "all" (docs/plugins.md, "Isolation").
  std::string isolate = "third-party";
  /// Batch mode: stop gracefully once no job is pending, failed (waiting) or processing.
  bool drain = false;
  /// One line per attempt start and end on stderr (docs/cli.md, "Worker log lines");
  /// --quiet: none of them.
  bool quiet = false;
  /// --echo-output: also each line of the job's captured output, prefixed with its id
  /// (relayed when the attempt ends, not live).
  bool echo_output = false;
  /// --log-format: "text" (default) or "json" (one JSON object per line, for every line
  /// the runtime logs).
  std::string log_format = "text";
};

/// Runs workers (worker_slots.hpp: with --http, /worker/start resizes them and /worker/stop
/// stops them, the process staying up) until SIGINT/SIGTERM (graceful: running jobs finish, nothing new is
/// claimed; after stop-timeout-seconds they are killed and handed back) or a second
/// signal (stop now, jobs handed back). Returns the process exit code: 0 after a clean
/// stop, 2 for bad options or a plugin that fails to load (one line on stderr), 1 for a
/// runtime failure.
int run_runtime(const runtime_options& opts);

}  // namespace queuectl::app
