#include "metrics_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace queuectl::prometheus {

namespace {

using steady = std::chrono::steady_clock;
constexpr std::size_t max_request = 16 * 1024;
constexpr auto io_deadline = std::chrono::seconds(5);

int ms_left(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool write_all(int fd, const std::string& data, steady::time_point deadline) {
  std::size_t done = 0;
  while (done < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, ms_left(deadline)) <= 0) return false;
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string response(int status, std::string_view reason, std::string_view content_type, const std::string& body,
                     std::string_view extra_headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  out += body;
  return out;
}

/// Value of header `name` (case-insensitive) in the raw header block, or "".
std::string header_value(const std::string& head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string line = head.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const std::size_t colon = line.find(':');
    if (colon == name.size() && strncasecmp(line.c_str(), name.data(), name.size()) == 0) {
      std::size_t v = colon + 1;
      while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
      return line.substr(v);
    }
    pos = end;
  }
  return {};
}

/// Constant-time comparison, so a token cannot be guessed byte by byte from timings.
bool same_secret(const std::string& given, const std::string& expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

}  // namespace

bool split_host_port(const std::string& bind, std::string& host, int& port) {
  const std::size_t colon = bind.rfind(':');
  if (colon == std::string::npos || colon + 1 >= bind.size()) return false;
  host = bind.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return false;
  const std::string p = bind.substr(colon + 1);
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5) return false;
  port = std::stoi(p);
  return port <= 65535;
}

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

std::string metrics_server::start(const std::string& bind) {
  std::string host;
  int port = 0;
  if (!split_host_port(bind, host, port)) return "metrics-bind: expected HOST:PORT, got '" + bind + "'";
  if (!is_loopback(host) && token_.empty())
    return "metrics-bind: binding " + host + " (not loopback) needs an auth token (--token or QUEUECTL_TOKEN)";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res); rc != 0)
    return "metrics-bind: cannot resolve '" + host + "': " + ::gai_strerror(rc);
  std::string err;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 16) == 0) {
      listen_fd_ = fd;
      sockaddr_storage sa{};
      socklen_t len = sizeof sa;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
      port_ = ntohs(sa.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
      break;
    }
    err = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0) return "metrics-bind: cannot listen on " + bind + ": " + err;
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) return std::string("metrics server: pipe: ") + std::strerror(errno);
  thread_ = std::thread([this] { serve(); });
  return {};
}

void metrics_server::stop() {
  if (thread_.joinable()) {
    const char c = 'x';
    [[maybe_unused]] auto n = ::write(wake_pipe_[1], &c, 1);
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &wake_pipe_[0], &wake_pipe_[1]})
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
}

void metrics_server::serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void metrics_server::handle(int fd) {
  const auto deadline = steady::now() + io_deadline;
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > max_request) {
      write_all(fd, response(431, "Request Header Fields Too Large", "text/plain", "request too large\n"), deadline);
      return;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms_left(deadline)) <= 0) return;  // slow or silent client: drop it
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;
    head.append(buf, static_cast<std::size_t>(n));
  }
  const std::size_t line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = request_line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    write_all(fd, response(400, "Bad Request", "text/plain", "malformed request line\n"), deadline);
    return;
  }
  const std::string method = request_line.substr(0, sp1);
  std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (const auto q = target.find('?'); q != std::string::npos) target.resize(q);
  if (!token_.empty() && !same_secret(header_value(head, "Authorization"), "Bearer " + token_)) {
    write_all(fd, response(401, "Unauthorized", "text/plain", "missing or wrong bearer token\n",
                           "WWW-Authenticate: Bearer\r\n"), deadline);
    return;
  }
  if (target != "/metrics") {
    write_all(fd, response(404, "Not Found", "text/plain", "only /metrics is served here\n"), deadline);
    return;
  }
  if (method != "GET" && method != "HEAD") {
    write_all(fd, response(405, "Method Not Allowed", "text/plain", "use GET\n", "Allow: GET, HEAD\r\n"), deadline);
    return;
  }
  std::string body = render_();
  std::string out = response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
  if (method == "HEAD") out.resize(out.size() - body.size());
  write_all(fd, out, deadline);
}

}  // namespace queuectl::prometheus
