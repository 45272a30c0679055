#include "web_service.hpp"

#include "host_queue.hpp"
#include "http_server.hpp"
#include "queuectl/error.hpp"
#include "web_app.hpp"

namespace queuectl::web {

namespace {

class running_service final : public web_service {
 public:
  /// `owned` may be null when `q` belongs to the caller.
  running_service(std::unique_ptr<app::host_queue> owned, app::host_queue& q, const web_options& opts)
      : queue_(std::move(owned)),
        workers_(opts.make_workers ? opts.make_workers(q) : nullptr),
        app_(q, opts.token, allowlist(opts), workers_ ? workers_.get() : opts.workers),
        server_(server_options(opts), handler(), on_error()) {
    server_.start();
  }
  ~running_service() override { server_.stop(); }  // before the app and queue it calls go away

  std::string url() const override { return "http://" + server_.local_address() + "/"; }

 private:
  static net::host_allowlist allowlist(const web_options& o) {
    net::host_allowlist hosts;
    const bind_address where = parse_bind(o.bind);
    hosts.allow_bound(where.host);
    // The name the user bound (e.g. --bind myhost.lan:8080, or 0.0.0.0) is one they mean to use.
    const std::string given = o.bind.substr(0, o.bind.rfind(':'));
    if (net::normalize_allowed_host(given)) hosts.allow(given);
    for (const auto& h : o.allowed_hosts) hosts.allow(h);
    return hosts;
  }
  static http_server_options server_options(const web_options& o) {
    http_server_options s;
    s.bind = o.bind;
    s.read_timeout = o.read_timeout;
    s.threads = o.threads;
    return s;
  }
  http_handler handler() {
    return [this](const http_request& r) { return app_.handle(r); };
  }
  http_error_handler on_error() {
    return [this](int status, std::string_view id, std::string_view msg) { return app_.error(status, id, msg); };
  }

  std::unique_ptr<app::host_queue> queue_;
  std::unique_ptr<worker_control> workers_;  // stopped after the server, before the queue goes
  web_app app_;
  http_server server_;
};

void check_bind(const web_options& opts) {
  const bind_address where = parse_bind(opts.bind);
  if (!where.loopback && opts.token.empty())
    throw error(error_kind::invalid_input, "queuectl.web.token_required",
                "refusing to serve on " + opts.bind +
                    " (not a loopback address) without a token: pass --token or set QUEUECTL_TOKEN");
}

}  // namespace

std::unique_ptr<web_service> start_web_service(const std::string& db, const web_options& opts) {
  check_bind(opts);  // before the database is opened: a refused start stores nothing
  auto q = app::open_host_queue(db);
  auto& ref = *q;
  return std::make_unique<running_service>(std::move(q), ref, opts);
}

std::unique_ptr<web_service> start_web_service(app::host_queue& q, const web_options& opts) {
  check_bind(opts);
  return std::make_unique<running_service>(nullptr, q, opts);
}

}  // namespace queuectl::web
