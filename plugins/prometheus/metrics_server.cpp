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
#include <optional>

namespace queuectl::prometheus {

namespace {

using steady = std::chrono::steady_clock;
constexpr std::size_t max_request = 16 * 1024;

int ms_left(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return left > 0 ? static_cast<int>(std::min<long long>(left, 60000)) : 0;
}

/// The address a connection arrived on, as a Host header would name it.
std::string local_address(int fd) {
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return {};
  char text[INET6_ADDRSTRLEN] = {};
  if (sa.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&sa)->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]";
  }
  ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&sa)->sin_addr, text, sizeof text);
  return text;
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

/// Value of header `name` (case-insensitive) in the raw header block, or nullopt.
std::optional<std::string> header_value(const std::string& head, std::string_view name) {
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
  return std::nullopt;
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
  hosts_ = net::host_allowlist{};
  hosts_.allow_bound(host);
  for (const auto& h : extra_hosts_) hosts_.allow(h);
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

void metrics_server::accept_one(std::vector<connection>& conns) {
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  if (conns.size() >= max_connections) {
    // Full: the client still waiting longest for its own request to arrive goes first
    // (a slow or silent one), so a flood of idle connections cannot lock scrapes out.
    auto oldest = conns.end();
    for (auto it = conns.begin(); it != conns.end(); ++it)
      if (it->out.empty() && (oldest == conns.end() || it->deadline < oldest->deadline)) oldest = it;
    if (oldest == conns.end()) {
      ::close(fd);
      return;
    }
    ::close(oldest->fd);
    conns.erase(oldest);
  }
  conns.push_back({fd, local_address(fd), {}, {}, 0, steady::now() + io_deadline});
}

void metrics_server::serve() {
  std::vector<connection> conns;
  std::vector<pollfd> fds;
  char buf[4096];
  while (true) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    auto next_deadline = steady::now() + std::chrono::hours(1);
    for (const auto& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
      next_deadline = std::min(next_deadline, c.deadline);
    }
    if (::poll(fds.data(), fds.size(), ms_left(next_deadline)) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    const auto now = steady::now();
    // Serve the existing connections first (indexes match fds[2...]), then accept.
    std::vector<bool> done(conns.size(), false);
    for (std::size_t i = 0; i < conns.size(); ++i) {
      connection& c = conns[i];
      const short ev = fds[i + 2].revents;
      if (now >= c.deadline) {
        done[i] = true;  // slow or silent client: drop it
        continue;
      }
      if (!ev) continue;
      if (c.out.empty()) {
        const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) {
          done[i] = true;
          continue;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        if (c.in.find("\r\n\r\n") != std::string::npos)
          c.out = answer(c.in, c.local);
        else if (c.in.size() > max_request)
          c.out = response(431, "Request Header Fields Too Large", "text/plain", "request too large\n");
        if (c.out.empty()) continue;
      }
      const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        done[i] = true;
        continue;
      }
      c.sent += static_cast<std::size_t>(n);
      if (c.sent == c.out.size()) done[i] = true;  // Connection: close
    }
    for (std::size_t i = conns.size(); i-- > 0;)
      if (done[i]) {
        ::close(conns[i].fd);
        conns.erase(conns.begin() + static_cast<std::ptrdiff_t>(i));
      }
    if (fds[0].revents & POLLIN) accept_one(conns);
  }
  for (const auto& c : conns) ::close(c.fd);
}

std::string metrics_server::answer(const std::string& head, const std::string& local) {
  const std::string request_line = head.substr(0, head.find("\r\n"));
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = request_line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos)
    return response(400, "Bad Request", "text/plain", "malformed request line\n");
  const auto host = header_value(head, "Host");
  if (!hosts_.allows(host ? &*host : nullptr, local))
    return response(421, "Misdirected Request", "text/plain",
                    host ? "requests for this host name are refused (see --allowed-host)\n" : "missing Host header\n");
  const std::string method = request_line.substr(0, sp1);
  std::string target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (const auto q = target.find('?'); q != std::string::npos) target.resize(q);
  const auto auth = header_value(head, "Authorization");
  if (!token_.empty() && !net::bearer_matches(auth ? &*auth : nullptr, token_))
    return response(401, "Unauthorized", "text/plain", "missing or wrong bearer token\n", "WWW-Authenticate: Bearer\r\n");
  if (target != "/metrics") return response(404, "Not Found", "text/plain", "only /metrics is served here\n");
  if (method != "GET" && method != "HEAD")
    return response(405, "Method Not Allowed", "text/plain", "use GET\n", "Allow: GET, HEAD\r\n");
  std::string body = render_();
  std::string out = response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
  if (method == "HEAD") out.resize(out.size() - body.size());
  return out;
}

}  // namespace queuectl::prometheus
