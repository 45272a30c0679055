// Wakes idle workers when another process writes the SQLite database, without polling:
// every committed write appends to the `-wal` file, and inotify reports that at once.
#pragma once

#include <functional>
#include <string>
#include <thread>

namespace queuectl::app {

/// Watches the database's directory for changes to `<db>` and `<db>-wal` and calls
/// `on_change` (from its own thread). If inotify is unavailable, `active()` is false and
/// workers fall back to polling every poll-interval-ms.
class wal_watcher {
 public:
  wal_watcher(const std::string& db_path, std::function<void()> on_change);
  ~wal_watcher();
  wal_watcher(const wal_watcher&) = delete;
  wal_watcher& operator=(const wal_watcher&) = delete;

  bool active() const { return inotify_fd_ >= 0; }

 private:
  void run();

  std::string db_name_;
  std::string wal_name_;
  std::function<void()> on_change_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that ends run()
  std::thread thread_;
};

}  // namespace queuectl::app
