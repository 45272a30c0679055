// The running web component — REST API + dashboard on its own queue connection — as
// `queuectl dashboard` and `queuectl-host --http` start it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "host_queue.hpp"
#include "worker_control.hpp"

namespace queuectl::web {

struct web_options {
  std::string bind = "127.0.0.1:8080";
  std::string token;  ///< empty: no auth; then only a loopback address may be bound
  /// Host names answered besides localhost, 127.0.0.1, [::1] and the bound address
  /// (--allowed-host, QUEUECTL_ALLOWED_HOSTS); any other Host gets 421.
  std::vector<std::string> allowed_hosts;
  std::chrono::milliseconds read_timeout{10000};
  int threads = 4;
  /// The serving process's worker slots, for /worker/start and /worker/stop (null: those
  /// answer 501). Must outlive the service (the host's own slots).
  worker_control* workers = nullptr;
  /// Or: made on the queue the service opens, and owned by it (`queuectl dashboard`).
  std::function<std::unique_ptr<worker_control>(app::host_queue&)> make_workers;
};

class web_service {
 public:
  virtual ~web_service() = default;
  /// "http://127.0.0.1:8080/" (the bound port when 0 was asked for).
  virtual std::string url() const = 0;
};

/// Opens the queue at `db` and starts serving. Throws queuectl::error: invalid_input
/// (exit 2) for a bad address or a non-loopback one without a token, runtime (exit 1)
/// when the address cannot be bound, storage errors from opening the database.
std::unique_ptr<web_service> start_web_service(const std::string& db, const web_options& opts);

/// Serves a queue this process already has open (it must outlive the service): the host
/// shares its workers' queue rather than opening the database a second time.
std::unique_ptr<web_service> start_web_service(app::host_queue& q, const web_options& opts);

}  // namespace queuectl::web
