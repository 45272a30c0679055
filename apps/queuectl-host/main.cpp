// queuectl-host: the runtime — worker slots running jobs through executor plugins.
#include <boost/program_options.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "db_location.hpp"
#include "plugin_options.hpp"
#include "queuectl/error.hpp"
#include "queuectl/net/request_guard.hpp"
#include "queuectl/plugin/abi.hpp"
#include "queuectl/plugin/plugin_helper.hpp"
#include "runtime.hpp"

#ifndef QUEUECTL_VERSION
#define QUEUECTL_VERSION "unknown"
#endif

namespace po = boost::program_options;

int main(int argc, char** argv) {
  // --isolate: this binary re-executed as a plugin's helper process (docs/plugins.md).
  if (queuectl::is_plugin_helper_invocation(argc, argv)) return queuectl::run_plugin_helper();
  queuectl::app::runtime_options opts;
  std::string db;
  po::options_description desc(
      "Usage: queuectl-host --plugin shell [--plugin NAME|PATH]... [options]\n"
      "Runs worker slots that claim jobs from the queue and execute them through plugins.\n"
      "SIGINT/SIGTERM stop gracefully (running jobs finish); a second signal stops at once.\n\nOptions");
  desc.add_options()("help,h", "show this help")("version", "print the version and the plugin ABI it loads")(
      "plugin,p", po::value<std::vector<std::string>>(&opts.plugins)->composing(),
      "plugin to load, by name (shell, http, prometheus, ...) or path; repeatable")(
      "plugin-dir", po::value<std::vector<std::string>>(&opts.plugin_dirs)->composing(),
      "extra directory searched for plugins first; repeatable")(
      "workers,w", po::value<int>(&opts.workers)->default_value(1), "worker slots (parallel jobs)")(
      "db", po::value<std::string>(&db), "database path (default $QUEUECTL_DB, else $QUEUECTL_DB_PATH, else $QUEUECTL_HOME/queue.db)")(
      "queue", po::value<std::vector<std::string>>(&opts.queues)->composing(),
      "only run jobs of this queue; repeatable (default: all)")(
      "daemon", po::bool_switch(&opts.daemon), "detach from the terminal")(
      "drain", po::bool_switch(&opts.drain), "exit once no job is pending, waiting for a retry or running")(
      "quiet", po::bool_switch(&opts.quiet), "no per-attempt lines (by default one when an attempt starts and ends)")(
      "echo-output", po::bool_switch(&opts.echo_output),
      "also each line of a job's output, prefixed with its id, when the attempt ends")(
      "log-format", po::value<std::string>(&opts.log_format)->default_value("text")->value_name("text|json"),
      "json: every log line is one JSON object (docs/cli.md, \"Worker log lines\")")(
      "log-file", po::value<std::string>(), "with --daemon: append output here (default: discard)")(
      "http", po::value<std::string>()->value_name("HOST:PORT"),
      "serve the web dashboard and REST API on HOST:PORT (e.g. 127.0.0.1:8080; port 0: any free port)")(
      "plugin-opt", po::value<std::vector<std::string>>()->composing()->value_name("NAME.KEY=VALUE"),
      "an option for plugin NAME (e.g. prometheus.bind=127.0.0.1:9464); repeatable; see docs/plugins.md")(
      "plugin-config", po::value<std::string>()->value_name("FILE"),
      "plugin options from FILE: [NAME] sections of KEY = VALUE lines (--plugin-opt wins)")(
      "isolate", po::value<std::string>(&opts.isolate)->default_value("third-party")->value_name("none|third-party|all"),
      "which executor plugins run in helper processes, so that a crash fails only its attempt")(
      "metrics-bind", po::value<std::string>()->value_name("HOST:PORT"),
      "same as --plugin-opt prometheus.bind=HOST:PORT (default 127.0.0.1:9464)")(
      "token", po::value<std::string>(),
      "bearer token required by --http and the plugins' listeners (default $QUEUECTL_TOKEN); needed "
      "to bind a non-loopback address")(
      "allowed-host", po::value<std::vector<std::string>>()->value_name("NAME")->composing(),
      "a Host name --http and the plugins' listeners answer besides localhost, 127.0.0.1, [::1] and the bound "
      "address (others get 421); repeatable (and $QUEUECTL_ALLOWED_HOSTS)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "queuectl-host: %s (see --help)\n", e.what());
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "queuectl-host " << QUEUECTL_VERSION << "\nplugin ABI " << QUEUECTL_PLUGIN_ABI_VERSION
              << ", toolchain " << QUEUECTL_PLUGIN_TOOLCHAIN << "\n";
    return 0;
  }
  if (opts.plugins.empty()) {
    std::fprintf(stderr, "queuectl-host: no --plugin given (e.g. --plugin shell)\n");
    return 2;
  }
  if (vm.count("log-file")) opts.log_file = vm["log-file"].as<std::string>();
  if (vm.count("http")) opts.http_bind = vm["http"].as<std::string>();
  try {
    if (vm.count("plugin-config")) opts.plugin_options = queuectl::app::read_plugin_config(vm["plugin-config"].as<std::string>());
    if (vm.count("metrics-bind")) opts.plugin_options["prometheus"]["bind"] = vm["metrics-bind"].as<std::string>();
    if (vm.count("plugin-opt"))
      for (const auto& o : vm["plugin-opt"].as<std::vector<std::string>>()) queuectl::app::add_plugin_opt(opts.plugin_options, o);
  } catch (const queuectl::error& e) {
    std::fprintf(stderr, "queuectl-host: %s\n", e.what());
    return 2;
  }
  if (vm.count("token")) opts.token = vm["token"].as<std::string>();
  else if (const char* t = std::getenv("QUEUECTL_TOKEN"); t && *t) opts.token = t;
  try {
    opts.allowed_hosts = queuectl::net::allowed_hosts(
        vm.count("allowed-host") ? vm["allowed-host"].as<std::vector<std::string>>() : std::vector<std::string>{});
    opts.db = queuectl::app::resolve_db(vm.count("db") ? std::optional<std::string>(db) : std::nullopt);
  } catch (const queuectl::error& e) {
    std::fprintf(stderr, "queuectl-host: %s\n", e.what());
    return e.kind() == queuectl::error_kind::invalid_input ? 2 : 1;
  }
  return queuectl::app::run_runtime(opts);
}
