/// @file
/// @brief A TCP socket for Beast's synchronous API whose blocking calls give up at the
/// attempt's deadline or when its stop token fires (the `http` executor's transport).
///
/// Asio only (no Beast): included by http_plugin.cpp alone.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stop_token>
#include <utility>
#include <vector>

namespace queuectl::http_executor {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

/// How late a cancel may be noticed while waiting on the network.
inline constexpr std::chrono::milliseconds stop_poll{50};

/// @brief The attempt's limits: its deadline and its stop token, checked before and
/// between every wait on the network.
class attempt_limits {
 public:
  enum class abort_reason { none, timeout, stop };

  attempt_limits(std::stop_token stop, steady::time_point deadline) : stop_(std::move(stop)), deadline_(deadline) {}

  /// False (with `ec` set) once stop is requested or the deadline has passed; sticky.
  bool check(boost::system::error_code& ec) {
    if (reason_ == abort_reason::none) {
      if (stop_.stop_requested()) reason_ = abort_reason::stop;
      else if (steady::now() >= deadline_) reason_ = abort_reason::timeout;
    }
    if (reason_ == abort_reason::none) return true;
    ec = reason_ == abort_reason::timeout ? asio::error::timed_out : asio::error::operation_aborted;
    return false;
  }

  /// Waits, in poll() slices, until `fd` is ready for `events` (or has an error the next
  /// call reports). Used for connect; reads and writes block with socket timeouts instead.
  bool wait(int fd, short events, boost::system::error_code& ec) {
    while (check(ec)) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - steady::now());
      pollfd p{fd, events, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::clamp(left, std::chrono::milliseconds(0), stop_poll).count()));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) {
        ec.assign(errno, boost::system::system_category());
        return false;
      }
    }
    return false;
  }

  abort_reason reason() const { return reason_; }
  steady::time_point deadline() const { return deadline_; }

 private:
  std::stop_token stop_;
  steady::time_point deadline_;
  abort_reason reason_ = abort_reason::none;
};

/// Up to 16 non-empty buffers of a buffer sequence as iovecs (read_some/write_some may
/// transfer less than everything).
template <class Buffers>
std::size_t to_iovecs(const Buffers& buffers, iovec (&out)[16]) {
  std::size_t n = 0;
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && n < 16; ++it) {
    const asio::const_buffer b(*it);
    if (b.size()) out[n++] = {const_cast<void*>(b.data()), b.size()};
  }
  return n;
}

/// @brief A TCP socket whose blocking reads and writes give up when the attempt's limits
/// are reached. Meets Asio's SyncReadStream/SyncWriteStream, so Beast's synchronous API
/// and ssl::stream run on top of it.
///
/// Each read or write is one blocking recvmsg/sendmsg bounded by SO_RCVTIMEO/SO_SNDTIMEO
/// (stop_poll, or less near the deadline); when it times out the limits are checked and
/// it is retried. That is the syscall count of a plain blocking client.
class deadline_socket {
 public:
  using lowest_layer_type = tcp::socket;
  using executor_type = tcp::socket::executor_type;

  explicit deadline_socket(asio::io_context& ioc) : socket_(ioc) {}

  /// The limits of the attempt now using the connection (connections outlive attempts).
  void attach(attempt_limits* limits) { limits_ = limits; }

  tcp::socket& lowest_layer() { return socket_; }
  const tcp::socket& lowest_layer() const { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }
  int fd() { return socket_.native_handle(); }

  /// Connects to the first of `endpoints` that accepts (non-blocking connect + poll),
  /// then leaves the socket blocking with time-limited reads and writes.
  boost::system::error_code connect(const std::vector<tcp::endpoint>& endpoints) {
    boost::system::error_code ec = asio::error::host_not_found;
    for (const auto& ep : endpoints) {
      boost::system::error_code ignored;
      socket_.close(ignored);
      socket_.open(ep.protocol(), ec);
      if (!ec) socket_.non_blocking(true, ec);
      if (ec) continue;
      if (::connect(fd(), ep.data(), static_cast<socklen_t>(ep.size())) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) {
          ec.assign(errno, boost::system::system_category());
          continue;
        }
        if (!limits_->wait(fd(), POLLOUT, ec)) return ec;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          ec.assign(err, boost::system::system_category());
          continue;
        }
      }
      socket_.non_blocking(false, ec);
      return ec;
    }
    return ec;
  }

  template <class Buffers>
  std::size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    iovec iov[16];
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = to_iovecs(buffers, iov);
    ec = {};
    if (msg.msg_iovlen == 0) return 0;
    while (arm(SO_RCVTIMEO, recv_slice_, ec)) {
      const ssize_t n = ::recvmsg(fd(), &msg, 0);
      if (n > 0) return static_cast<std::size_t>(n);
      if (n == 0) {
        ec = asio::error::eof;
        return 0;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ec.assign(errno, boost::system::system_category());
        return 0;
      }
    }
    return 0;
  }

  template <class Buffers>
  std::size_t write_some(const Buffers& buffers, boost::system::error_code& ec) {
    iovec iov[16];
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = to_iovecs(buffers, iov);
    ec = {};
    if (msg.msg_iovlen == 0) return 0;
    while (arm(SO_SNDTIMEO, send_slice_, ec)) {
      const ssize_t n = ::sendmsg(fd(), &msg, MSG_NOSIGNAL);  // a closed peer must not raise SIGPIPE
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ec.assign(errno, boost::system::system_category());
        return 0;
      }
    }
    return 0;
  }

  // The throwing forms the stream concepts also require.
  template <class Buffers>
  std::size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class Buffers>
  std::size_t write_some(const Buffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  /// Checks the limits and bounds the next blocking call by what is left of them (a
  /// setsockopt only when the bound changes: near the deadline).
  bool arm(int option, std::chrono::microseconds& current, boost::system::error_code& ec) {
    if (!limits_->check(ec)) return false;
    const auto left = std::chrono::ceil<std::chrono::microseconds>(limits_->deadline() - steady::now());
    const auto slice = std::clamp<std::chrono::microseconds>(left, std::chrono::milliseconds(1), stop_poll);
    if (slice == current) return true;
    const timeval tv{static_cast<time_t>(slice.count() / 1000000), static_cast<suseconds_t>(slice.count() % 1000000)};
    if (::setsockopt(fd(), SOL_SOCKET, option, &tv, sizeof tv) != 0) {
      ec.assign(errno, boost::system::system_category());
      return false;
    }
    current = slice;
    return true;
  }

  tcp::socket socket_;
  attempt_limits* limits_ = nullptr;
  std::chrono::microseconds recv_slice_{0}, send_slice_{0};  // 0: not set yet (blocks forever)
};

}  // namespace queuectl::http_executor
