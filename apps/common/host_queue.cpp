#include "host_queue.hpp"

#include <atomic>
#include <thread>

#include "db_location.hpp"
#include "queuectl/plugin/loader.hpp"
#include "queuectl/storage/sqlite_storage.hpp"
#include "wal_watcher.hpp"
#ifdef QUEUECTL_WITH_POSTGRESQL
#include "queuectl/storage/postgresql_listener.hpp"
#include "queuectl/storage/postgresql_storage.hpp"
#endif

namespace queuectl::app {

namespace {

class sqlite_watch final : public job_watch {
 public:
  sqlite_watch(const std::string& db, std::function<void()> on_change) : watcher_(db, std::move(on_change)) {}
  std::string how() const override { return watcher_.active() ? "inotify" : "polling"; }

 private:
  wal_watcher watcher_;
};

#ifdef QUEUECTL_WITH_POSTGRESQL
/// LISTENs on the storage's channel in its own thread; the listener reconnects by itself
/// after an outage (and then reports a wake-up, since notifications may have been missed).
class postgresql_watch final : public job_watch {
 public:
  postgresql_watch(const postgresql_storage& s, std::function<void()> on_change)
      : listener_(s.connection_string(), s.notify_channel()), on_change_(std::move(on_change)) {
    thread_ = std::thread([this] {
      while (!stop_.load())
        if (listener_.wait_for(std::chrono::milliseconds(250))) on_change_();
    });
  }
  ~postgresql_watch() override {
    stop_.store(true);
    thread_.join();
  }
  std::string how() const override { return "LISTEN/NOTIFY"; }

 private:
  postgresql_listener listener_;
  std::function<void()> on_change_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};
#endif

}  // namespace

std::unique_ptr<host_queue> open_host_queue(const std::string& db, plugin_executor executor, std::size_t connections,
                                            std::function<void(const std::string&)> on_outage) {
  if (is_postgresql_url(db)) {
#ifdef QUEUECTL_WITH_POSTGRESQL
    postgresql_options o;
    o.pool_size = std::max<std::size_t>(connections, 1);
    o.on_retry = std::move(on_outage);
    return std::make_unique<host_queue>(std::move(executor), exponential_backoff{},
                                        std::make_unique<postgresql_storage>(db, std::move(o)));
#else
    throw error(error_kind::invalid_input, "queuectl.db.unsupported",
                "this build has no PostgreSQL support (SOCI's PostgreSQL backend was not found): " + db);
#endif
  }
  return std::make_unique<host_queue>(std::move(executor), exponential_backoff{}, std::make_unique<sqlite_storage>(db));
}

std::unique_ptr<job_watch> watch_for_jobs(host_queue& q, const std::string& db, std::function<void()> on_change) {
#ifdef QUEUECTL_WITH_POSTGRESQL
  if (auto* pg = q.storage().target<postgresql_storage>()) return std::make_unique<postgresql_watch>(*pg, std::move(on_change));
#endif
  (void)q;
  return std::make_unique<sqlite_watch>(db, std::move(on_change));
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
