// A minimal HTTP/1.1 server for GET /metrics: one thread, one connection at a time, every
// read and write bounded by a deadline so a stuck client cannot hold it. Scrapes are
// small and rare; this keeps Beast (and its build time) out of the exporter.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace queuectl::prometheus {

class metrics_server {
 public:
  /// `render` produces the body of /metrics; `token` (may be empty) is required as
  /// `Authorization: Bearer TOKEN` when set.
  metrics_server(std::function<std::string()> render, std::string token)
      : render_(std::move(render)), token_(std::move(token)) {}
  ~metrics_server() { stop(); }

  /// Binds `host:port` (port 0 = any) and starts serving; returns "" or a one-line error.
  std::string start(const std::string& bind);
  void stop();
  /// The port actually bound (after start).
  int port() const { return port_; }

 private:
  void serve();
  void handle(int fd);

  std::function<std::string()> render_;
  std::string token_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::thread thread_;
};

/// Splits "HOST:PORT" ("[::1]:9464" too); false if malformed.
bool split_host_port(const std::string& bind, std::string& host, int& port);
/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

}  // namespace queuectl::prometheus
