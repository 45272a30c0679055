#include "host_queue.hpp"

#include <filesystem>
#include <mutex>

#include "postgresql_backend.hpp"
#include "queuectl/plugin/loader.hpp"
#include "storage_backends.hpp"

namespace queuectl::app {

postgresql_backend& load_postgresql_backend() {
  // Loaded once and never unloaded: the storages and watches it made run its code.
  static boost::dll::shared_library* module = nullptr;
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (!module) {
    std::filesystem::path path;
    try {
      path = plugin_loader().locate("storage_postgresql");
    } catch (const error& e) {
      throw error(error_kind::invalid_input, "queuectl.db.unsupported",
                  "PostgreSQL support is not installed: " + e.message());
    }
    auto lib = std::make_unique<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    lib->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec || !lib->has(postgresql_backend_symbol))
      throw error(error_kind::invalid_input, "queuectl.db.unsupported",
                  "cannot load PostgreSQL support from " + path.string() + ": " + (ec ? ec.message() : "not a backend"));
    module = lib.release();
  }
  return *module->get_alias<postgresql_backend_fn>(postgresql_backend_symbol)();
}

std::unique_ptr<host_queue> open_host_queue(const std::string& db, plugin_executor executor, std::size_t connections,
                                            std::function<void(const std::string&)> on_outage) {
  return std::make_unique<host_queue>(std::move(executor), exponential_backoff{},
                                      storage_backend_for(db).open(db, connections, std::move(on_outage)));
}

std::unique_ptr<host_queue> open_host_queue_read_only(const std::string& db) {
  return std::make_unique<host_queue>(plugin_executor{}, exponential_backoff{}, storage_backend_for(db).open_read_only(db));
}

std::unique_ptr<job_watch> watch_for_jobs(const std::string& db, std::function<void()> on_change) {
  return storage_backend_for(db).watch(db, std::move(on_change));
}

std::optional<isolation_mode> parse_isolation_mode(std::string_view s) {
  if (s == "none") return isolation_mode::none;
  if (s == "third-party") return isolation_mode::third_party;
  if (s == "all") return isolation_mode::all;
  return std::nullopt;
}

host_plugins load_plugins(const std::vector<std::string>& names, const plugin_load_options& opts) {
  plugin_loader loader(opts.dirs);
  host_plugins out;
  for (const auto& n : names) {
    const auto path = loader.locate(n);
    const bool bundled = loader.is_bundled(path);
    const bool isolate = opts.isolate == isolation_mode::all || (opts.isolate == isolation_mode::third_party && !bundled);
    const std::string origin = std::string(bundled ? "bundled" : "third-party") + ", from " + path.string();
    if (isolate) {
      // The library is loaded by its first helper process, never by the host, unless it
      // also exports an exporter (exporters always run in the host).
      isolated_executor::options io;
      // argv: the binary's name, the switch, and (for `ps`) the plugin it serves.
      std::error_code ec;
      const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
      io.helper_path = opts.helper_path;
      io.helper_argv = {ec ? std::string("queuectl") : exe.string(), "--plugin-helper", path.string()};
      io.plugin_path = path.string();
      io.log = opts.log;
      auto x = std::make_shared<isolated_executor>(io);
      const std::string name(x->name());
      if (x->has_exporter()) {
        out.exporters.push_back(loader.load_exporter(path.string()));
        out.report.push_back("plugin '" + name + "': exporter, in-process (" + origin + ")");
      }
      if (x->has_executor()) {
        out.report.push_back("plugin '" + name + "': executor, isolated in helper processes (" + origin + ")");
        out.executors.add(std::move(x));
      }
      out.names.push_back(name);
      continue;
    }
    auto p = loader.load(path.string());
    const std::string name(p.executor ? p.executor->name() : p.exporter->name());
    if (p.executor) {
      out.report.push_back("plugin '" + name + "': executor, in-process (" + origin + ")");
      out.executors.add(std::move(p.executor));
    }
    if (p.exporter) {
      out.report.push_back("plugin '" + name + "': exporter, in-process (" + origin + ")");
      out.exporters.push_back(std::move(p.exporter));
    }
    out.names.push_back(name);
  }
  return out;
}

}  // namespace queuectl::app
