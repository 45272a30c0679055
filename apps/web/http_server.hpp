// A small asynchronous HTTP/1.1 server (Boost.Beast, kept inside http_server.cpp): a few
// I/O threads, keep-alive, a read deadline per request so a slow client cannot hold a
// thread or a connection, a body limit, and a cap on open connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "http_types.hpp"

namespace queuectl::web {

/// A parsed `HOST:PORT` (`[v6]:PORT` too): port 0 asks for a free one.
struct bind_address {
  std::string host;
  unsigned short port = 0;
  bool loopback = false;  ///< every address the host resolves to is a loopback address
};

/// Parses and resolves a --bind / --http value. Throws queuectl::error (invalid_input)
/// with a one-line reason.
bind_address parse_bind(const std::string& text);

struct http_server_options {
  std::string bind = "127.0.0.1:8080";
  std::size_t body_limit = (1u << 20) + (64u << 10);  ///< 1 MiB of JSON plus headroom
  std::size_t header_limit = 16u << 10;
  /// Whole request (headers and body) must arrive within this; also the keep-alive idle time.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{30000};
  int threads = 4;
  std::size_t max_connections = 512;
};

class http_server {
 public:
  http_server(http_server_options opts, http_handler handler, http_error_handler on_error);
  ~http_server();  ///< stops
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts serving. Throws queuectl::error: invalid_input for a bad address,
  /// runtime when the address cannot be bound (in use, not ours).
  void start();
  /// Stops accepting, closes every connection, joins the threads. Idempotent.
  void stop();
  /// The bound address, e.g. "127.0.0.1:43817" (after start()).
  std::string local_address() const;

  struct impl;  ///< opaque: Beast lives in http_server.cpp only

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace queuectl::web
