#include "host_queue.hpp"

#include "queuectl/plugin/loader.hpp"
#include "queuectl/storage/sqlite_storage.hpp"

namespace queuectl::app {

std::unique_ptr<host_queue> open_host_queue(const std::string& db, plugin_executor executor) {
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0)
    throw error(error_kind::invalid_input, "queuectl.db.unsupported",
                "PostgreSQL databases are not supported by this build yet: " + db);
  return std::make_unique<host_queue>(std::move(executor), exponential_backoff{},
                                      std::make_unique<sqlite_storage>(db));
}

host_plugins load_plugins(const std::vector<std::string>& names, const std::vector<std::string>& dirs) {
  plugin_loader loader(dirs);
  host_plugins out;
  for (const auto& n : names) {
    auto p = loader.load(n);
    if (p.executor) out.executors.add(std::move(p.executor));
    if (p.exporter) out.exporters.push_back(std::move(p.exporter));
  }
  return out;
}

}  // namespace queuectl::app
