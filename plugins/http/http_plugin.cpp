/// @file
/// @brief The `http` executor: one HTTP(S) call per attempt, made with Boost.Beast.
///
/// A job's payload says what to call (see http_spec.hpp). Outcome mapping: 2xx succeeds;
/// 408, 429, 5xx, network errors and timeouts are retryable (a `Retry-After` header sets
/// attempt_result::retry_after); other statuses, invalid payloads and redirect loops are
/// permanent. Redirects are followed (at most 5). TLS verifies the peer against the system
/// store (plus `QUEUECTL_HTTP_CA_FILE` if set) and the host name, and sends SNI.
///
/// I/O model: Beast's synchronous API over a socket whose blocking calls are cut into
/// short slices that check the attempt's deadline and stop token (deadline_socket). A call
/// thus costs what a blocking client's does (one sendmsg, one recvmsg: driving Asio's
/// async operations instead took ~7 syscalls per call) yet stays cancellable.
///
/// Threading: every worker thread keeps its own small cache of idle keep-alive connections
/// (thread_local), so concurrent execute() calls share nothing but the immutable TLS
/// contexts.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "deadline_socket.hpp"
#include "http_spec.hpp"
#include "queuectl/plugin/executor_plugin.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace spec = queuectl::http_executor;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using spec::attempt_limits;
using spec::deadline_socket;
using spec::stop_poll;
using queuectl::attempt_result;
using namespace std::chrono_literals;

constexpr std::size_t body_cap = 64 * 1024;      // body bytes kept in the attempt's output
constexpr std::uint64_t drain_limit = 8u << 20;  // read (and discard) up to this to keep the connection
constexpr int max_redirects = 5;
constexpr double default_timeout_seconds = 30;
constexpr std::size_t max_idle_connections = 16;  // per thread
constexpr auto max_idle_age = 30s;                // older keep-alive connections are not trusted
constexpr auto check_after_idle = 1s;  // idle longer: look for a close before reusing (costs a syscall)
constexpr const char* ca_file_env = "QUEUECTL_HTTP_CA_FILE";

// ---------------------------------------------------------------------------------------
// TLS contexts

/// A client TLS context trusting the system store plus `ca_file` (if not empty). Loading
/// the store takes milliseconds, so contexts are built once per CA file and shared: an
/// SSL_CTX is safe to use from many threads once it is set up.
std::shared_ptr<ssl::context> tls_context(const std::string& ca_file, std::string& error) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<ssl::context>> contexts;
  std::lock_guard lock(mutex);
  if (auto it = contexts.find(ca_file); it != contexts.end()) return it->second;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  ctx->set_default_verify_paths(ec);  // a host without a CA bundle still works with ca_file
  if (!ca_file.empty() && ctx->load_verify_file(ca_file, ec)) {
    error = std::string(ca_file_env) + "=" + ca_file + ": cannot load the CA file: " + ec.message();
    return nullptr;  // not cached: the file may be fixed before the retry
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return contexts[ca_file] = std::move(ctx);
}

// ---------------------------------------------------------------------------------------
// Connections and the per-thread state

/// One open connection, plain or TLS, with the bytes read past the last response.
struct connection {
  std::string key;                        // scheme://host:port (+ CA file for https)
  std::shared_ptr<ssl::context> tls_ctx;  // declared before `tls`: outlives the stream
  std::optional<deadline_socket> plain;
  std::optional<ssl::stream<deadline_socket>> tls;
  beast::flat_buffer buffer;
  std::string verify_error;  // why the peer's certificate was refused, from the verify callback
  steady::time_point idle_since{};

  deadline_socket& socket() { return tls ? tls->next_layer() : *plain; }
};

/// False when the server has closed an idle connection (EOF or error). On a plain
/// connection any unsolicited byte also disqualifies it (e.g. a 408 sent before closing,
/// which would pass for our reply); TLS 1.3 servers may legitimately send session tickets.
bool looks_reusable(connection& c) {
  char byte;
  const ssize_t n = ::recv(c.socket().fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  return n > 0 && c.tls.has_value();
}

/// What each worker thread keeps between attempts.
struct thread_state {
  asio::io_context ioc{1};  // declared first: destroyed after the sockets that use it
  std::vector<std::unique_ptr<connection>> idle;

  /// An idle connection for `key` that still looks alive, or nullptr.
  std::unique_ptr<connection> take(const std::string& key) {
    for (auto it = idle.rbegin(); it != idle.rend(); ++it) {
      if ((*it)->key != key) continue;
      std::unique_ptr<connection> c = std::move(*it);
      idle.erase(std::next(it).base());
      // Servers close idle connections after seconds; one that closed sooner is caught by
      // round_trip's retry, so recently used connections skip the check.
      const auto idle_for = steady::now() - c->idle_since;
      if (idle_for < check_after_idle || (idle_for < max_idle_age && looks_reusable(*c))) return c;
      return nullptr;  // stale; a fresh connection is cheaper than guessing further
    }
    return nullptr;
  }
  void put(std::unique_ptr<connection> c) {
    c->socket().attach(nullptr);
    c->idle_since = steady::now();
    if (idle.size() >= max_idle_connections) idle.erase(idle.begin());  // the oldest
    idle.push_back(std::move(c));
  }
};

thread_state& this_thread_state() {
  thread_local thread_state state;
  return state;
}

/// Resolves a host name on the thread's io_context. On timeout or stop the lookup is
/// abandoned, not awaited: getaddrinfo cannot be interrupted and may take long; its late
/// completion only touches the shared result.
beast::error_code resolve(asio::io_context& ioc, attempt_limits& limits, const spec::url& u,
                          std::vector<tcp::endpoint>& out) {
  struct outcome {
    bool done = false;
    beast::error_code ec;
    std::vector<tcp::endpoint> endpoints;
  };
  auto result = std::make_shared<outcome>();
  auto resolver = std::make_shared<tcp::resolver>(ioc);
  resolver->async_resolve(u.host, std::to_string(u.port),
                          [result, resolver](beast::error_code ec, const tcp::resolver::results_type& r) {
                            for (const auto& entry : r) result->endpoints.push_back(entry.endpoint());
                            result->ec = ec;
                            result->done = true;
                          });
  beast::error_code ec;
  while (!result->done) {
    if (!limits.check(ec)) return ec;
    if (ioc.stopped()) ioc.restart();
    ioc.run_one_for(stop_poll);
  }
  out = std::move(result->endpoints);
  return result->ec;
}

// ---------------------------------------------------------------------------------------
// One exchange: request out, response in

/// The parts of a response the attempt reports.
struct response {
  unsigned status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> shown_headers;
  std::string location, retry_after;
  std::string body;       // at most body_cap bytes
  std::uint64_t cut = 0;  // body bytes read but not kept
  std::optional<std::uint64_t> content_length;
  bool complete = true;  // false when the body was abandoned past drain_limit
  bool reusable = false;
};

/// A transport-level failure: which step failed and why.
struct transport_error {
  std::string what;              // "read response from 127.0.0.1:8080 failed: Connection reset by peer"
  bool before_response = false;  // no response byte arrived: maybe a stale keep-alive connection
};

/// `host:port` for messages, always with the port.
std::string endpoint_text(const spec::url& u) {
  return (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);
}

http::request<http::string_body> make_request(const spec::request_spec& s) {
  http::request<http::string_body> req{http::string_to_verb(s.method), s.target.target, 11};
  req.set(http::field::host, s.target.authority());
  req.set(http::field::user_agent, "queuectl-http");
  bool has_content_type = false;
  for (const auto& [name, value] : s.headers) {
    req.set(name, value);
    has_content_type = has_content_type || spec::detail::iequals(name, "Content-Type");
  }
  if (s.body) {
    req.body() = *s.body;
    if (s.body_is_json && !has_content_type) req.set(http::field::content_type, "application/json");
  }
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

/// Copies the status and the headers worth showing, before the body is read.
void take_head(const http::response<http::buffer_body>& head, response& out) {
  out.status = head.result_int();
  out.reason = std::string(head.reason());
  if (out.reason.empty()) out.reason = std::string(http::obsolete_reason(head.result()));
  for (auto field : {http::field::content_type, http::field::content_length, http::field::location, http::field::retry_after}) {
    const auto it = head.find(field);
    if (it == head.end()) continue;
    out.shown_headers.emplace_back(std::string(it->name_string()), std::string(it->value()));
    if (field == http::field::location) out.location = std::string(it->value());
    if (field == http::field::retry_after) out.retry_after = std::string(it->value());
  }
}

/// Sends `req` on `stream` and reads the response into `out`: the body's first body_cap
/// bytes are kept, the rest is read and counted so the connection stays reusable.
template <class Stream>
std::optional<transport_error> exchange(connection& conn, Stream& stream, http::request<http::string_body>& req,
                                        response& out, const std::string& peer) {
  beast::error_code ec;
  http::write(stream, req, ec);
  if (ec) return transport_error{"send request to " + peer + " failed: " + ec.message(), true};

  http::response_parser<http::buffer_body> parser;
  // The body is capped here, not refused. (Not boost::none: Beast 1.74 compares the
  // Content-Length against the empty optional and reports body_limit.)
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.header_limit(64 * 1024);
  if (req.method() == http::verb::head) parser.skip(true);
  http::read_header(stream, conn.buffer, parser, ec);
  if (ec) return transport_error{"read response from " + peer + " failed: " + ec.message(), !parser.got_some()};
  take_head(parser.get(), out);
  if (const auto len = parser.content_length()) out.content_length = *len;

  char chunk[16 * 1024];
  std::uint64_t total = 0;
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    http::read(stream, conn.buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return transport_error{"read response body from " + peer + " failed: " + ec.message(), false};
    const std::size_t n = sizeof chunk - parser.get().body().size;
    const std::size_t keep = std::min(n, body_cap - std::min(body_cap, out.body.size()));
    out.body.append(chunk, keep);
    out.cut += n - keep;
    total += n;
    if (total > drain_limit && !parser.is_done()) {  // not worth reading on: drop the connection
      out.complete = false;
      break;
    }
  }
  out.reusable = out.complete && parser.keep_alive() && conn.buffer.size() == 0;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// The attempt

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

/// Status line, chosen headers, then the capped body with a marker saying what was cut.
std::string format_output(const response& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + r.reason + "\n";
  for (const auto& [name, value] : r.shown_headers) out += name + ": " + value + "\n";
  out += "\n";
  out += r.body;
  if (r.cut || !r.complete) {
    if (!r.body.empty() && r.body.back() != '\n') out += "\n";
    std::uint64_t not_shown = r.cut;
    if (r.content_length && *r.content_length > r.body.size()) not_shown = *r.content_length - r.body.size();
    const bool exact = r.complete || r.content_length;
    out += "[... body truncated: " + std::string(exact ? "" : "more than ") + std::to_string(not_shown) +
           " bytes not shown (output keeps the first " + std::to_string(body_cap) + ")]\n";
  }
  return out;
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// The attempt's verdict on a final (non-redirect) response.
attempt_result classify(const response& r) {
  attempt_result out;
  out.output = format_output(r);
  if (r.status >= 200 && r.status < 300) {
    out.success = true;
    return out;
  }
  out.error = "HTTP " + std::to_string(r.status) + " " + r.reason;
  const bool retryable = r.status == 408 || r.status == 429 || (r.status >= 500 && r.status < 600);
  if (!retryable) {
    out.permanent = true;  // the same request will get the same answer
    return out;
  }
  if (!r.retry_after.empty()) out.retry_after = spec::parse_retry_after(r.retry_after, std::chrono::system_clock::now());
  return out;
}

/// One attempt: connects (or reuses a connection), follows redirects, maps the outcome.
class http_call {
 public:
  http_call(thread_state& state, const queuectl::execution_context& ctx, double timeout)
      : state_(state), timeout_(timeout),
        limits_(ctx.stop, steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(timeout))) {}

  attempt_result perform(spec::request_spec req) {
    std::vector<std::string> visited{req.method + " " + req.target.str()};
    for (int redirects = 0;; ++redirects) {
      response r;
      if (auto failure = round_trip(req, r)) return *failure;
      if (!is_redirect(r.status) || r.location.empty()) return classify(r);
      auto fail = [&](std::string why) {
        attempt_result out = attempt_result::failure(std::move(why), true);
        out.output = format_output(r);
        return out;
      };
      if (redirects == max_redirects) return fail("too many redirects (" + std::to_string(max_redirects) + ")");
      auto next = spec::resolve_location(req.target, r.location);
      if (!next.value) return fail("redirect to unusable Location '" + r.location + "': " + next.error);
      follow(req, r.status, std::move(*next.value));
      const std::string key = req.method + " " + req.target.str();
      if (std::find(visited.begin(), visited.end(), key) != visited.end())
        return fail("redirect loop: " + req.target.str() + " was already requested");
      visited.push_back(key);
    }
  }

 private:
  /// Rewrites `req` for the redirect target, as browsers and curl do: 303 (and 301/302
  /// after a POST) turn into a body-less GET; credentials never leave the origin.
  static void follow(spec::request_spec& req, unsigned status, spec::url next) {
    const bool to_get = (status == 303 && req.method != "HEAD") || ((status == 301 || status == 302) && req.method == "POST");
    const bool other_origin = !next.same_origin(req.target);
    std::erase_if(req.headers, [&](const auto& h) {
      const auto& n = h.first;
      if (to_get && (spec::detail::iequals(n, "Content-Type") || spec::detail::iequals(n, "Content-Encoding"))) return true;
      return other_origin && (spec::detail::iequals(n, "Authorization") || spec::detail::iequals(n, "Cookie") ||
                              spec::detail::iequals(n, "Proxy-Authorization") || spec::detail::iequals(n, "Host"));
    });
    if (to_get) {
      req.method = "GET";
      req.body.reset();
      req.body_is_json = false;
    }
    req.target = std::move(next);
  }

  static std::string key_of(const spec::url& u, const std::string& ca_file) {
    return u.scheme + "://" + u.host + ":" + std::to_string(u.port) + (u.tls() ? "|" + ca_file : "");
  }

  /// Sends one request and reads its response. A reused connection that turns out to be
  /// closed before any response byte arrives is replaced once by a fresh one.
  std::optional<attempt_result> round_trip(const spec::request_spec& s, response& out) {
    const char* ca_env = std::getenv(ca_file_env);
    const std::string ca_file = ca_env ? ca_env : "";
    const std::string key = key_of(s.target, ca_file);
    const std::string peer = endpoint_text(s.target);
    auto req = make_request(s);
    while (true) {
      std::unique_ptr<connection> conn = state_.take(key);
      const bool reused = conn != nullptr;
      if (reused) {
        conn->socket().attach(&limits_);
      } else {
        std::string why;
        conn = open(s.target, key, ca_file, why);
        if (!conn) return failure(why);
      }
      out = response{};
      auto err = conn->tls ? exchange(*conn, *conn->tls, req, out, peer) : exchange(*conn, *conn->plain, req, out, peer);
      if (!err) {
        if (out.reusable) state_.put(std::move(conn));
        return std::nullopt;
      }
      const bool stale = reused && err->before_response && limits_.reason() == attempt_limits::abort_reason::none;
      if (!stale) return failure(err->what);
    }
  }

  /// A new connection to `u` (resolved, connected, TLS handshake done), or nullptr + `why`.
  std::unique_ptr<connection> open(const spec::url& u, const std::string& key, const std::string& ca_file,
                                   std::string& why) {
    const std::string peer = endpoint_text(u);
    beast::error_code ec;
    const auto address = asio::ip::make_address(u.host, ec);
    const bool is_ip = !ec;
    std::vector<tcp::endpoint> endpoints;
    if (is_ip) {
      endpoints.emplace_back(address, u.port);
    } else if ((ec = resolve(state_.ioc, limits_, u, endpoints))) {
      why = "resolve " + u.host + " failed: " + ec.message();
      return nullptr;
    }

    auto conn = std::make_unique<connection>();
    conn->key = key;
    deadline_socket socket(state_.ioc);
    socket.attach(&limits_);
    if ((ec = socket.connect(endpoints))) {
      why = "connect to " + peer + " failed: " + ec.message();
      return nullptr;
    }
    socket.lowest_layer().set_option(tcp::no_delay(true), ec);  // small requests must not wait for Nagle
    if (!u.tls()) {
      conn->plain.emplace(std::move(socket));
      return conn;
    }

    conn->tls_ctx = tls_context(ca_file, why);
    if (!conn->tls_ctx) return nullptr;
    conn->tls.emplace(std::move(socket), *conn->tls_ctx);
    if (!is_ip && !SSL_set_tlsext_host_name(conn->tls->native_handle(), u.host.c_str())) {  // SNI: names only
      why = "TLS setup for " + peer + " failed: cannot set SNI";
      return nullptr;
    }
    conn->tls->set_verify_callback([c = conn.get(), host = u.host, check = ssl::host_name_verification(u.host)](
                                       bool preverified, ssl::verify_context& vc) {
      if (!preverified) {
        c->verify_error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc.native_handle()));
        return false;
      }
      if (!check(preverified, vc)) {
        c->verify_error = "certificate does not match host " + host;
        return false;
      }
      return true;
    });
    conn->tls->handshake(ssl::stream_base::client, ec);
    if (ec) {
      why = "TLS handshake with " + peer + " failed: " +
            (conn->verify_error.empty() ? ec.message() : "certificate verification failed: " + conn->verify_error);
      return nullptr;
    }
    return conn;
  }

  /// A retryable failure; a timeout or cancel overrides the network error it caused.
  attempt_result failure(std::string why) const {
    switch (limits_.reason()) {
      case attempt_limits::abort_reason::timeout: {
        attempt_result r = attempt_result::failure("timed out after " + seconds_text(timeout_));
        r.timed_out = true;
        return r;
      }
      case attempt_limits::abort_reason::stop: return attempt_result::failure("canceled");
      case attempt_limits::abort_reason::none: break;
    }
    return attempt_result::failure(std::move(why));
  }

  thread_state& state_;
  double timeout_;
  attempt_limits limits_;
};

/// The payload's timeout, else the job's, else 30 s; never longer than the job's.
double effective_timeout(const spec::request_spec& s, const queuectl::execution_context& ctx) {
  double t = s.timeout.value_or(ctx.timeout > 0 ? ctx.timeout : default_timeout_seconds);
  if (ctx.timeout > 0) t = std::min(t, ctx.timeout);
  return t;
}

class http_executor final : public queuectl::executor_plugin {
 public:
  std::string_view name() const noexcept override { return "http"; }

 protected:
  std::string check(const queuectl::job_spec& s) const override { return spec::parse_payload(s.payload).error; }

  attempt_result run(const queuectl::job& j, const queuectl::execution_context& ctx) override {
    auto parsed = spec::parse_payload(j.payload);
    if (!parsed.value) return attempt_result::failure(parsed.error, true);  // retrying cannot fix it
    if (ctx.stop.stop_requested()) return attempt_result::failure("canceled");
    try {
      http_call call(this_thread_state(), ctx, effective_timeout(*parsed.value, ctx));
      return call.perform(std::move(*parsed.value));
    } catch (...) {
      // The base class turns the exception into a failed attempt; the thread's cached
      // connections may be mid-exchange, so they go.
      this_thread_state().idle.clear();
      throw;
    }
  }
};

}  // namespace

QUEUECTL_EXECUTOR_PLUGIN(http_executor)
