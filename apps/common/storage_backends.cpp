#include "storage_backends.hpp"

#include <array>

#include "db_location.hpp"
#include "postgresql_backend.hpp"
#include "queuectl/storage/sqlite_storage.hpp"
#include "wal_watcher.hpp"

namespace queuectl::app {

namespace {

class sqlite_watch final : public job_watch {
 public:
  sqlite_watch(const std::string& db, std::function<void()> on_change) : watcher_(db, std::move(on_change)) {}
  std::string how() const override { return watcher_.active() ? "inotify" : "polling"; }

 private:
  wal_watcher watcher_;
};

/// A file path: the default kind.
class sqlite_backend final : public storage_backend {
 public:
  std::string_view name() const override { return "sqlite"; }
  bool accepts(const std::string&) const override { return true; }
  bool is_file() const override { return true; }
  int schema_version() const override { return sqlite_schema_version; }
  any_storage open(const std::string& db, std::size_t, std::function<void(const std::string&)>) const override {
    return any_storage(std::make_unique<sqlite_storage>(db));
  }
  any_storage open_read_only(const std::string& db) const override {
    sqlite_options o;
    o.read_only = true;
    return any_storage(std::make_unique<sqlite_storage>(db, o));
  }
  std::unique_ptr<job_watch> watch(const std::string& db, std::function<void()> on_change) const override {
    return std::make_unique<sqlite_watch>(db, std::move(on_change));
  }
};

/// A postgresql:// URL or libpq keyword form, served by the module loaded on first use
/// (postgresql_backend.hpp).
class postgresql_entry final : public storage_backend {
 public:
  std::string_view name() const override { return "postgresql"; }
  bool accepts(const std::string& db) const override { return is_postgresql_url(db); }
  bool is_file() const override { return false; }
  int schema_version() const override { return storage_schema_version; }
  any_storage open(const std::string& db, std::size_t connections,
                   std::function<void(const std::string&)> on_outage) const override {
    return load_postgresql_backend().open(with_connect_timeout(db), connections, std::move(on_outage));
  }
  any_storage open_read_only(const std::string& db) const override { return open(db, 2, {}); }
  std::unique_ptr<job_watch> watch(const std::string& db, std::function<void()> on_change) const override {
    return load_postgresql_backend().watch(with_connect_timeout(db), std::move(on_change));
  }
};

}  // namespace

const storage_backend& storage_backend_for(const std::string& db) {
  static const postgresql_entry postgresql;
  static const sqlite_backend sqlite;
  static const std::array<const storage_backend*, 2> registry{&postgresql, &sqlite};
  for (const storage_backend* b : registry)
    if (b->accepts(db)) return *b;
  return sqlite;
}

}  // namespace queuectl::app
