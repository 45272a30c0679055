#include "host_queue.hpp"

#include "queuectl/plugin/loader.hpp"

namespace queuectl::app {

std::unique_ptr<host_queue> open_host_queue(const std::string& db, plugin_executor executor) {
  if (db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0)
    throw error(error_kind::invalid_input, "queuectl.db.unsupported",
                "PostgreSQL databases are not supported by this build yet: " + db);
  return std::make_unique<host_queue>(std::move(executor), exponential_backoff{}, db);
}

plugin_executor load_plugins(const std::vector<std::string>& names, const std::vector<std::string>& dirs) {
  plugin_loader loader(dirs);
  plugin_executor exec;
  for (const auto& n : names) exec.add(loader.load_executor(n));
  return exec;
}

}  // namespace queuectl::app
