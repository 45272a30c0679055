// A minimal HTTP/1.1 server for GET /metrics: one thread multiplexing every connection
// with poll(), each bounded by a deadline, so slow or silent clients cannot delay a
// normal scrape. Scrapes are small and rare; this keeps Beast (and its build time) out of
// the exporter. Requests pass the same Host and token checks as the dashboard
// (queuectl/net/request_guard.hpp, docs/security.md).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "queuectl/net/request_guard.hpp"

namespace queuectl::prometheus {

class metrics_server {
 public:
  /// `render` produces the body of /metrics; `token` (may be empty) is required as
  /// `Authorization: Bearer TOKEN` when set; `allowed_hosts` are Host names answered
  /// besides the loopback names and the bound address.
  metrics_server(std::function<std::string()> render, std::string token, std::vector<std::string> allowed_hosts = {})
      : render_(std::move(render)), token_(std::move(token)), extra_hosts_(std::move(allowed_hosts)) {}
  ~metrics_server() { stop(); }

  /// Binds `host:port` (port 0 = any) and starts serving; returns "" or a one-line error.
  std::string start(const std::string& bind);
  void stop();
  /// The port actually bound (after start).
  int port() const { return port_; }

  /// At most this many connections at once; a new one beyond it evicts the connection
  /// that has waited longest for its request to arrive.
  static constexpr std::size_t max_connections = 64;
  /// A client has this long to send its request and read the answer.
  static constexpr std::chrono::seconds io_deadline{5};

 private:
  struct connection {
    int fd = -1;
    std::string local;   ///< the address it arrived on, for the Host rule
    std::string in;      ///< request bytes so far
    std::string out;     ///< the answer, once the request is complete
    std::size_t sent = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  void serve();
  void accept_one(std::vector<connection>& conns);
  /// The whole answer to one complete request head.
  std::string answer(const std::string& head, const std::string& local);

  std::function<std::string()> render_;
  std::string token_;
  std::vector<std::string> extra_hosts_;
  net::host_allowlist hosts_;
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
