/// @file
/// @brief Waits for the wake-ups postgresql_storage sends (LISTEN/NOTIFY), for idle workers.
#pragma once

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "queuectl/error.hpp"

namespace queuectl {

/// @brief One LISTEN connection: `wait_for` returns as soon as any process, on any host,
/// enqueues, releases or retries a job in the same database (postgresql_storage sends
/// `pg_notify(channel)` in those transactions).
///
/// It has its own libpq connection (not one of the storage's pool). If the connection is
/// lost, `wait_for` reconnects and then returns true, because notifications sent while it
/// was away are lost: a spurious wake-up costs one empty claim, a missed one a poll
/// interval. Not thread-safe: one listener per waiting thread (a host needs one).
///
/// @code
/// queuectl::postgresql_listener wake(storage.connection_string(), storage.notify_channel());
/// while (running) if (!queue.run_once(owner)) wake.wait_for(std::chrono::seconds(5));
/// @endcode
class postgresql_listener {
 public:
  /// Connects and LISTENs; throws queuectl::error if the database cannot be reached.
  explicit postgresql_listener(std::string connection, std::string channel = "queuectl_jobs")
      : conn_(std::move(connection)), channel_(std::move(channel)) {
    if (!connect())
      throw error(error_kind::storage, "queuectl.storage.postgresql.listen",
                  "cannot LISTEN on " + channel_ + ": " + last_error_);
  }
  ~postgresql_listener() { disconnect(); }
  postgresql_listener(const postgresql_listener&) = delete;
  postgresql_listener& operator=(const postgresql_listener&) = delete;

  /// Blocks until a notification arrives (true) or `timeout` passes (false). Notifications
  /// that arrived since the last call count; several are folded into one wake-up.
  bool wait_for(std::chrono::milliseconds timeout) {
    using steady = std::chrono::steady_clock;
    const auto deadline = steady::now() + timeout;
    while (true) {
      if (pg_ == nullptr) {  // lost earlier: try again every half second until the deadline
        if (connect()) return true;
        const auto left = deadline - steady::now();
        if (left <= steady::duration::zero()) return false;
        std::this_thread::sleep_for(std::min<steady::duration>(left, std::chrono::milliseconds(500)));
        continue;
      }
      if (drain()) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
      if (left <= 0) return false;
      pollfd p{PQsocket(pg_), POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0) return false;
      if (rc < 0 || !PQconsumeInput(pg_) || PQstatus(pg_) != CONNECTION_OK) {
        last_error_ = PQerrorMessage(pg_);
        disconnect();  // reconnected on the next pass
      }
    }
  }

  /// True while the LISTEN connection is up.
  bool connected() const noexcept { return pg_ != nullptr && PQstatus(pg_) == CONNECTION_OK; }
  const std::string& channel() const noexcept { return channel_; }
  /// The last connection error, for logs.
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  bool drain() {
    bool got = false;
    while (PGnotify* n = PQnotifies(pg_)) {
      got = true;
      PQfreemem(n);
    }
    return got;
  }

  bool connect() {
    // expand_dbname: `connection` may be a URL or a keyword string; connect_timeout caps
    // how long an unreachable host blocks a waiting worker.
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {conn_.c_str(), "5", "queuectl-listener", nullptr};
    pg_ = PQconnectdbParams(keys, values, 1);
    if (pg_ == nullptr || PQstatus(pg_) != CONNECTION_OK) {
      last_error_ = pg_ ? PQerrorMessage(pg_) : "out of memory";
      disconnect();
      return false;
    }
    PQsetNoticeProcessor(
        pg_, [](void*, const char*) {}, nullptr);  // no server chatter on stderr
    char* ident = PQescapeIdentifier(pg_, channel_.c_str(), channel_.size());
    if (ident == nullptr) {
      last_error_ = PQerrorMessage(pg_);
      disconnect();
      return false;
    }
    const std::string sql = std::string("LISTEN ") + ident;  // an identifier: it cannot be a bound parameter
    PQfreemem(ident);
    PGresult* r = PQexec(pg_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) last_error_ = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) disconnect();
    return ok;
  }

  void disconnect() {
    if (pg_ != nullptr) PQfinish(pg_);
    pg_ = nullptr;
  }

  std::string conn_;
  std::string channel_;
  std::string last_error_;
  PGconn* pg_ = nullptr;
};

}  // namespace queuectl
