// libqueuectl_storage_postgresql.so: postgresql_storage and LISTEN/NOTIFY wake-ups for
// the apps, loaded on demand (see postgresql_backend.hpp).
#include <boost/dll/alias.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "db_location.hpp"
#include "postgresql_backend.hpp"
#include "queuectl/storage/postgresql_listener.hpp"
#include "queuectl/storage/postgresql_storage.hpp"

namespace queuectl::app {

namespace {

/// LISTENs on the storage's channel in its own thread; the listener reconnects by itself
/// after an outage (and then reports a wake-up, since notifications may have been missed).
class postgresql_watch final : public job_watch {
 public:
  postgresql_watch(const std::string& url, std::function<void()> on_change)
      : listener_(url, postgresql_options{}.channel), on_change_(std::move(on_change)) {
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
  bool announces_jobs() const override { return true; }

 private:
  postgresql_listener listener_;
  std::function<void()> on_change_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class backend final : public postgresql_backend {
 public:
  any_storage open(const std::string& url, std::size_t connections,
                   std::function<void(const std::string&)> on_retry) override {
    postgresql_options o;
    o.pool_size = std::max<std::size_t>(connections, 1);
    o.on_retry = std::move(on_retry);
    // Opening waits as long as the connection string's connect_timeout (db_location.cpp adds
    // one when absent), not the 30 s outage budget of a running host.
    o.open_retry_budget = std::chrono::seconds(std::max(1, connect_timeout_of(url).value_or(5)));
    return any_storage(std::make_unique<postgresql_storage>(url, std::move(o)));
  }
  std::unique_ptr<job_watch> watch(const std::string& url, std::function<void()> on_change) override {
    return std::make_unique<postgresql_watch>(url, std::move(on_change));
  }
};

postgresql_backend* the_backend() {
  static backend b;
  return &b;
}

}  // namespace

}  // namespace queuectl::app

BOOST_DLL_ALIAS(queuectl::app::the_backend, queuectl_postgresql_backend)
