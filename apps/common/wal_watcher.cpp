#include "wal_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>

namespace queuectl::app {

wal_watcher::wal_watcher(const std::string& db_path, std::function<void()> on_change)
    : on_change_(std::move(on_change)) {
  const std::filesystem::path p = std::filesystem::absolute(db_path);
  db_name_ = p.filename().string();
  wal_name_ = db_name_ + "-wal";
  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) return;
  const std::string dir = p.parent_path().string();
  if (::inotify_add_watch(inotify_fd_, dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO) < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return;
  }
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { run(); });
}

wal_watcher::~wal_watcher() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    thread_.join();
  }
  if (stop_fd_ >= 0) ::close(stop_fd_);
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void wal_watcher::run() {
  alignas(inotify_event) char buf[16 * 1024];
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[1].revents) return;
    bool relevant = false;
    while (true) {
      const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
        if (ev->len > 0 && (wal_name_ == ev->name || db_name_ == ev->name)) relevant = true;
        off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      }
    }
    if (relevant) on_change_();
  }
}

}  // namespace queuectl::app
