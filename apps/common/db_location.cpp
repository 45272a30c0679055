#include "db_location.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "queuectl/error.hpp"

namespace queuectl::app {

namespace {
std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

void make_private_dir(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::exists(dir)) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw error(error_kind::runtime, "queuectl.db.directory",
                "cannot create directory " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
}
}  // namespace

bool is_postgresql_url(const std::string& db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

std::string display_db(const std::string& db) {
  if (!is_postgresql_url(db)) return db;
  const std::size_t scheme_end = db.find("://") + 3;
  const std::size_t at = db.find('@', scheme_end);
  const std::size_t colon = db.find(':', scheme_end);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return db;
  return db.substr(0, colon + 1) + "***" + db.substr(at);
}

std::string resolve_db(const std::optional<std::string>& flag) {
  std::string db = flag ? *flag : env_or_empty("QUEUECTL_DB");
  if (db.empty()) {
    std::string home = env_or_empty("QUEUECTL_HOME");
    if (home.empty()) {
      const std::string user_home = env_or_empty("HOME");
      if (user_home.empty())
        throw error(error_kind::invalid_input, "queuectl.db.no_home",
                    "cannot find the database: set --db, QUEUECTL_DB, QUEUECTL_HOME or HOME");
      home = user_home + "/.queuectl";
    }
    db = home + "/queue.db";
  }
  if (is_postgresql_url(db)) return db;
  make_private_dir(std::filesystem::path(db).parent_path());
  return db;
}

}  // namespace queuectl::app
