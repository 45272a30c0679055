// The one translation unit that includes Boost.Beast (its headers are heavy: docs/architecture.md §3).
// Everything else in apps/web speaks http_request / http_response.
#include "http_server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "queuectl/error.hpp"

namespace queuectl::web {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

error bad_bind(const std::string& text, const std::string& why) {
  return error(error_kind::invalid_input, "queuectl.web.bad_bind", "bind address '" + text + "': " + why);
}

std::string endpoint_text(const tcp::endpoint& e) {
  const std::string a = e.address().to_string();
  return (e.address().is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(e.port());
}

/// After a refused request body, read (and drop) what the client still sends, so that it
/// gets to read our answer instead of a reset connection. Bounded in bytes and time.
constexpr std::size_t linger_max_bytes = 8u << 20;
constexpr std::chrono::seconds linger_time{3};

}  // namespace

bind_address parse_bind(const std::string& text) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw bad_bind(text, "expected [IPv6]:PORT");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw bad_bind(text, "expected HOST:PORT, e.g. 127.0.0.1:8080");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) throw bad_bind(text, "write an IPv6 address as [ADDRESS]:PORT");
  }
  if (host.empty()) throw bad_bind(text, "missing host (127.0.0.1: this machine only; 0.0.0.0: every interface)");
  if (port.empty() || port.size() > 5) throw bad_bind(text, "the port must be a number from 0 to 65535");
  unsigned long p = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) throw bad_bind(text, "the port must be a number from 0 to 65535");
    p = p * 10 + static_cast<unsigned long>(c - '0');
  }
  if (p > 65535) throw bad_bind(text, "the port must be a number from 0 to 65535");

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto results = resolver.resolve(host, port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) throw bad_bind(text, "cannot resolve '" + host + "': " + ec.message());
  bind_address out;
  out.host = results.begin()->endpoint().address().to_string();
  out.port = static_cast<unsigned short>(p);
  out.loopback = true;
  for (const auto& r : results) out.loopback = out.loopback && r.endpoint().address().is_loopback();
  return out;
}

// ---- the server -------------------------------------------------------------------------

namespace {

/// What the acceptor needs of a connection to make room when the cap is reached.
class reapable {
 public:
  virtual ~reapable() = default;
  /// Steady-clock nanoseconds since it began waiting for its next request; 0 while a
  /// request is being read, handled or answered.
  virtual std::int64_t idle_since() const = 0;
  /// Closes it (posted to its strand).
  virtual void reap() = 0;
};

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

struct http_server::impl {
  http_server_options opts;
  http_handler handler;
  http_error_handler on_error;
  std::atomic<std::size_t> connections{0};
  std::mutex sessions_mutex;
  std::vector<std::weak_ptr<reapable>> sessions;  ///< pruned as they expire

  /// At the cap: closes the connection idle the longest (keep-alive or never sent a
  /// request). False when every connection is busy with a request.
  bool reap_idlest() {
    std::lock_guard lock(sessions_mutex);
    std::shared_ptr<reapable> idlest;
    std::int64_t since = 0;
    std::erase_if(sessions, [&](const std::weak_ptr<reapable>& w) {
      auto s = w.lock();
      if (!s) return true;
      if (const auto t = s->idle_since(); t != 0 && (since == 0 || t < since)) {
        since = t;
        idlest = s;
      }
      return false;
    });
    if (!idlest) return false;
    idlest->reap();
    std::erase_if(sessions, [&](const std::weak_ptr<reapable>& w) { return w.lock() == idlest; });
    return true;
  }
  void track(const std::shared_ptr<reapable>& s) {
    std::lock_guard lock(sessions_mutex);
    sessions.push_back(s);
  }
  // Destroyed in reverse order: the threads are joined first, then the acceptor, then the
  // io_context, whose pending handlers own the sessions (they still use `connections`).
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> retry_timer;
  std::vector<std::thread> threads;
  std::string local;
  bool stopped = false;

  impl(http_server_options o, http_handler h, http_error_handler e)
      : opts(std::move(o)), handler(std::move(h)), on_error(std::move(e)), ioc(std::max(1, opts.threads)) {}

  void accept();
};

namespace {

class session final : public reapable, public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, http_server::impl& srv) : stream_(std::move(socket)), srv_(srv) {
    ++srv_.connections;
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint_text(peer);
    const auto here = stream_.socket().local_endpoint(ec);
    if (!ec) local_ = here.address().is_v6() ? "[" + here.address().to_string() + "]" : here.address().to_string();
  }
  ~session() override { --srv_.connections; }

  std::int64_t idle_since() const override { return idle_since_.load(); }
  void reap() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  void run() { net::dispatch(stream_.get_executor(), beast::bind_front_handler(&session::read_header, shared_from_this())); }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(srv_.opts.header_limit));
    parser_->body_limit(srv_.opts.body_limit);
    // One deadline for the whole request, headers and body: a client trickling bytes
    // cannot keep the connection beyond it. Also the keep-alive idle time.
    stream_.expires_after(srv_.opts.read_timeout);
    // A pipelined request already in the buffer is not idle time.
    idle_since_ = buffer_.size() == 0 ? steady_ns() : 0;
    http::async_read_header(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    idle_since_ = 0;
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      // Answer the expectation now, so the client sends the body without waiting.
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit)
      return send(srv_.on_error(413, "queuectl.web.too_large",
                                "request body is larger than " + std::to_string(srv_.opts.body_limit) + " bytes"),
                  false, true);
    if (ec == http::error::header_limit)
      return send(srv_.on_error(431, "queuectl.web.headers_too_large", "request headers are too large"), false, true);
    if (ec.category() == beast::http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return send(srv_.on_error(400, "queuectl.web.malformed", "malformed HTTP request: " + ec.message()), false, true);
    close();  // timeout, end of stream, reset: nothing to answer
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    auto req = parser_->release();
    http_request r;
    const bool head = req.method() == http::verb::head;
    r.method = head ? "GET" : std::string(req.method_string());
    r.head = head;
    r.target = std::string(req.target());
    const auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    r.body = std::move(req.body());
    r.remote = remote_;
    r.local = local_;
    http_response res;
    try {
      res = srv_.handler(r);
    } catch (const std::exception& e) {
      res = srv_.on_error(500, "queuectl.web.internal", e.what());
    } catch (...) {
      res = srv_.on_error(500, "queuectl.web.internal", "unexpected failure");
    }
    send(std::move(res), req.keep_alive(), false, head, req.version());
  }

  void send(http_response r, bool keep_alive, bool linger, bool head = false, unsigned version = 11) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), version);
    res->set(http::field::server, "queuectl");
    res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->keep_alive(keep_alive);
    res->content_length(r.body.size());
    if (!head) res->body() = std::move(r.body);
    stream_.expires_after(srv_.opts.write_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive, linger](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      if (linger) return self->linger();
      if (!keep_alive) return self->close();
      self->read_header();
    });
  }

  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(linger_time);
    drain();
  }
  void drain() {
    stream_.async_read_some(net::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > linger_max_bytes) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  http_server::impl& srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::array<char, 16384> scratch_{};
  std::size_t drained_ = 0;
  std::string remote_;
  std::string local_;
  std::atomic<std::int64_t> idle_since_{0};
};

/// The answer when every connection is busy: 503, then close. Needs no session.
void refuse_busy(tcp::socket socket) {
  static const std::string busy = [] {
    const std::string body =
        R"({"error":{"id":"queuectl.web.busy","message":"too many connections: try again in a moment"}})";
    return "HTTP/1.1 503 Service Unavailable\r\nServer: queuectl\r\nContent-Type: application/json\r\n"
           "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  net::async_write(*s, net::buffer(busy), [s](beast::error_code, std::size_t) {
    beast::error_code ignored;
    s->shutdown(tcp::socket::shutdown_both, ignored);
    s->close(ignored);
  });
}

}  // namespace

void http_server::impl::accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Out of file descriptors, say: try again shortly rather than spin.
      retry_timer->expires_after(std::chrono::milliseconds(50));
      retry_timer->async_wait([this](beast::error_code) { accept(); });
      return;
    }
    if (connections.load() >= opts.max_connections && !reap_idlest()) {
      refuse_busy(std::move(socket));
    } else {
      auto s = std::make_shared<session>(std::move(socket), *this);
      track(s);
      s->run();
    }
    accept();
  });
}

http_server::http_server(http_server_options opts, http_handler handler, http_error_handler on_error)
    : impl_(std::make_unique<impl>(std::move(opts), std::move(handler), std::move(on_error))) {}

http_server::~http_server() { stop(); }

void http_server::start() {
  const bind_address where = parse_bind(impl_->opts.bind);
  const tcp::endpoint ep(net::ip::make_address(where.host), where.port);
  beast::error_code ec;
  auto& a = impl_->acceptor.emplace(impl_->ioc);
  auto fail = [&](const char* what) {
    return error(error_kind::runtime, "queuectl.web.listen",
                 "cannot listen on " + impl_->opts.bind + ": " + what + ": " + ec.message());
  };
  if (a.open(ep.protocol(), ec); ec) throw fail("open");
  if (a.set_option(net::socket_base::reuse_address(true), ec); ec) throw fail("set_option");
  if (a.bind(ep, ec); ec) throw fail("bind");
  if (a.listen(net::socket_base::max_listen_connections, ec); ec) throw fail("listen");
  impl_->local = endpoint_text(a.local_endpoint());
  impl_->retry_timer.emplace(impl_->ioc);
  impl_->accept();
  for (int i = 0; i < std::max(1, impl_->opts.threads); ++i)
    impl_->threads.emplace_back([this] {
      for (;;) {
        try {
          impl_->ioc.run();
          return;
        } catch (...) {
          // A handler escaped with an exception: that connection is gone, keep serving.
        }
      }
    });
}

void http_server::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

std::string http_server::local_address() const { return impl_->local; }

}  // namespace queuectl::web
