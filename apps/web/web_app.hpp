// The front of the web component: what every request goes through before and after the
// REST handlers — bearer token, cross-site refusal, the security headers, errors as JSON
// — plus the embedded dashboard files and /openapi.json.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host_queue.hpp"
#include "http_types.hpp"
#include "queuectl/net/request_guard.hpp"
#include "rest_api.hpp"
#include "router.hpp"
#include "worker_control.hpp"

namespace queuectl::web {

class web_app {
 public:
  /// `token` empty: no authentication (only allowed on loopback, checked by web_service).
  /// `hosts`: the Host names answered; any other gets 421 before routing.
  /// `workers`: the serving process's worker slots (/worker/start, /worker/stop), or null.
  web_app(app::host_queue& q, std::string token, net::host_allowlist hosts = {}, worker_control* workers = nullptr);

  http_response handle(const http_request& req);
  /// An error response with the security headers (also used by the server itself).
  http_response error(int status, std::string_view id, std::string_view message) const;

  /// Every route the server answers: /api, the compatibility routes, /openapi.json, /docs.
  std::vector<router::route_info> routes() const { return router_.routes(); }

 private:
  http_response dispatch(const http_request& req);
  bool authorized(const http_request& req) const;

  std::string token_;
  net::host_allowlist hosts_;
  rest_api api_;
  router router_;
};

}  // namespace queuectl::web
