/// @file
/// @brief A scripted HTTP/1.1 server for tests and benchmarks: Beast on one thread,
/// 127.0.0.1 on an ephemeral port, keep-alive, optionally TLS with a throwaway CA.
///
/// Routes (anything else is 404):
///  - `/ok` 200 "ok";  `/flaky` 500 on its first hit, then 200;  `/missing` 404
///  - `/limited` 429 `Retry-After: 1`;  `/limited-date` 503 with an HTTP-date 2 s ahead
///  - `/hang` never answers (the connection stays open until the client gives up)
///  - `/loop` 302 to itself;  `/redir` 302 to /ok;  `/chain/N` 302 to /chain/N+1;
///    `/see-other` 303 to /echo
///  - `/big` 1 MiB body;  `/echo` the request (method, target, headers, body) as text
///  - `/bye` 200 with keep-alive allowed, then closes the connection (a server dropping
///    an idle keep-alive connection)
///
/// Include it in few translation units: Beast is slow to compile.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

namespace queuectl::test {

/// PEM files of a test CA and a server certificate it signed.
struct tls_files {
  std::string ca_cert, server_cert, server_key;
};

/// Creates, with the `openssl` CLI, a throwaway CA and a server certificate it signs for
/// `server_names` (subjectAltName entries, e.g. "DNS:localhost"). EC keys: fast to make.
inline tls_files make_test_pki(const std::filesystem::path& dir, const std::string& server_names = "DNS:localhost") {
  std::filesystem::create_directories(dir);
  const auto p = [&](const char* f) { return (dir / f).string(); };
  {
    std::ofstream ext(p("server.ext"));
    ext << "subjectAltName=" << server_names << "\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
        << "extendedKeyUsage=serverAuth\n";
  }
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string log = " >>" + p("openssl.log") + " 2>&1";
  const std::string steps[] = {
      "openssl req -x509" + ec + " -keyout " + p("ca.key") + " -out " + p("ca.pem") +
          " -days 2 -subj /CN=queuectl-test-ca -addext basicConstraints=critical,CA:TRUE"
          " -addext keyUsage=critical,keyCertSign,cRLSign" + log,
      "openssl req" + ec + " -keyout " + p("server.key") + " -out " + p("server.csr") + " -subj /CN=localhost" + log,
      "openssl x509 -req -in " + p("server.csr") + " -CA " + p("ca.pem") + " -CAkey " + p("ca.key") +
          " -CAcreateserial -days 2 -out " + p("server.pem") + " -extfile " + p("server.ext") + log,
  };
  for (const auto& cmd : steps) {
    if (std::system(cmd.c_str()) != 0) {
      std::ifstream in(p("openssl.log"));
      std::stringstream why;
      why << in.rdbuf();
      throw std::runtime_error("openssl failed: " + cmd + "\n" + why.str());
    }
  }
  return {p("ca.pem"), p("server.pem"), p("server.key")};
}

/// @brief The server. Starts listening in the constructor, stops in the destructor.
class http_test_server {
 public:
  explicit http_test_server(std::optional<tls_files> tls = std::nullopt) {
    if (tls) {
      tls_ctx_.emplace(boost::asio::ssl::context::tls_server);
      tls_ctx_->use_certificate_chain_file(tls->server_cert);
      tls_ctx_->use_private_key_file(tls->server_key, boost::asio::ssl::context::pem);
    }
    const tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~http_test_server() {
    ioc_.stop();
    thread_.join();
  }
  http_test_server(const http_test_server&) = delete;
  http_test_server& operator=(const http_test_server&) = delete;

  std::uint16_t port() const { return port_; }
  /// `http(s)://host:port/path`; `host` lets TLS tests pick the name they verify.
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const {
    return std::string(tls_ctx_ ? "https" : "http") + "://" + host + ":" + std::to_string(port_) + path;
  }
  /// Requests received for `path` so far.
  int hits(const std::string& path) const {
    std::lock_guard lock(mutex_);
    const auto it = hits_.find(path);
    return it == hits_.end() ? 0 : it->second;
  }
  /// TCP connections accepted so far (keep-alive reuse keeps this low).
  int connections() const { return connections_.load(); }
  /// The SNI name the last TLS client sent ("" if none).
  std::string last_sni() const {
    std::lock_guard lock(mutex_);
    return last_sni_;
  }

 private:
  using tcp = boost::asio::ip::tcp;
  struct reply {
    std::optional<boost::beast::http::response<boost::beast::http::string_body>> response;  // none: never answer
    bool close_after = false;
  };

  template <class Stream>
  class session : public std::enable_shared_from_this<session<Stream>> {
   public:
    session(http_test_server& owner, Stream stream) : owner_(owner), stream_(std::move(stream)) {}

    void start() {
      if constexpr (std::is_same_v<Stream, tcp::socket>) {
        read();
      } else {
        stream_.async_handshake(boost::asio::ssl::stream_base::server,
                                [self = this->shared_from_this()](boost::beast::error_code ec) {
                                  if (ec) return;
                                  const char* sni = SSL_get_servername(self->stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
                                  self->owner_.note_sni(sni ? sni : "");
                                  self->read();
                                });
      }
    }

   private:
    void read() {
      request_ = {};
      boost::beast::http::async_read(stream_, buffer_, request_,
                                     [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                       if (!ec) self->answer();
                                     });
    }
    void answer() {
      reply_ = owner_.route(request_);
      if (!reply_.response) return read();  // /hang: wait for the client to give up
      boost::beast::http::async_write(stream_, *reply_.response,
                                      [self = this->shared_from_this()](boost::beast::error_code ec, std::size_t) {
                                        if (ec || self->reply_.close_after || !self->reply_.response->keep_alive()) {
                                          boost::beast::error_code ignored;
                                          boost::beast::get_lowest_layer(self->stream_).close(ignored);
                                          return;
                                        }
                                        self->read();
                                      });
    }

    http_test_server& owner_;
    Stream stream_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    reply reply_;
  };

  void accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++connections_;
      socket.set_option(tcp::no_delay(true));
      if (tls_ctx_) {
        std::make_shared<session<boost::asio::ssl::stream<tcp::socket>>>(
            *this, boost::asio::ssl::stream<tcp::socket>(std::move(socket), *tls_ctx_))
            ->start();
      } else {
        std::make_shared<session<tcp::socket>>(*this, std::move(socket))->start();
      }
      accept();
    });
  }

  void note_sni(std::string name) {
    std::lock_guard lock(mutex_);
    last_sni_ = std::move(name);
  }

  static std::string http_date(std::time_t t) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
  }

  /// The scripted behaviour (runs on the server thread).
  reply route(const boost::beast::http::request<boost::beast::http::string_body>& req) {
    namespace http = boost::beast::http;
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    int hit = 0;
    {
      std::lock_guard lock(mutex_);
      hit = ++hits_[path];
    }
    reply r;
    auto respond = [&](http::status status, std::string body, const char* type = "text/plain") -> http::response<http::string_body>& {
      r.response.emplace(status, req.version());
      r.response->set(http::field::content_type, type);
      r.response->body() = std::move(body);
      r.response->keep_alive(req.keep_alive());
      return *r.response;
    };
    auto redirect = [&](http::status status, const std::string& to) { respond(status, "see " + to).set(http::field::location, to); };

    if (path == "/ok") respond(http::status::ok, "ok");
    else if (path == "/flaky") respond(hit == 1 ? http::status::internal_server_error : http::status::ok, hit == 1 ? "try again" : "ok");
    else if (path == "/missing") respond(http::status::not_found, "no such thing");
    else if (path == "/limited") respond(http::status::too_many_requests, "slow down").set(http::field::retry_after, "1");
    else if (path == "/limited-date")
      respond(http::status::service_unavailable, "later").set(http::field::retry_after, http_date(std::time(nullptr) + 2));
    else if (path == "/hang") return r;
    else if (path == "/loop") redirect(http::status::found, "/loop");
    else if (path == "/redir") redirect(http::status::found, "/ok");
    else if (path.rfind("/chain/", 0) == 0) redirect(http::status::found, "/chain/" + std::to_string(std::stoi(path.substr(7)) + 1));
    else if (path == "/see-other") redirect(http::status::see_other, "/echo");
    else if (path == "/big") respond(http::status::ok, std::string(1u << 20, 'x'), "application/octet-stream");
    else if (path == "/echo") respond(http::status::ok, echo(req));
    else if (path == "/bye") {
      respond(http::status::ok, "bye");
      r.close_after = true;
    } else respond(http::status::not_found, "no route");
    r.response->prepare_payload();
    return r;
  }

  static std::string echo(const boost::beast::http::request<boost::beast::http::string_body>& req) {
    std::string out = std::string(req.method_string()) + " " + std::string(req.target()) + "\n";
    for (const auto& f : req) out += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
    return out + "\n" + req.body();
  }

  std::optional<boost::asio::ssl::context> tls_ctx_;  // outlives the io_context's sessions
  boost::asio::io_context ioc_{1};
  tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::map<std::string, int> hits_;
  std::string last_sni_;
};

}  // namespace queuectl::test
