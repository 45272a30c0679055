#include "web_app.hpp"

#include <cctype>

#include "assets.hpp"
#include "compat_routes.hpp"
#include "queuectl/error.hpp"
#include "queuectl/net/request_guard.hpp"

namespace queuectl::web {

namespace {

// default-src 'self': no inline script or style, no CDN, nothing from anywhere else.
constexpr const char* csp = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// /docs: the same, but Swagger UI's stylesheet draws its icons as data: SVG images (an
// image runs no script). Still no inline script and nothing from elsewhere.
constexpr const char* docs_csp =
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void secure(http_response& r, bool api, const char* policy = csp) {
  r.headers.emplace_back("Content-Security-Policy", policy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cache-Control", api ? "no-store" : "no-cache");
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

/// An API call (token required, not cached): /api/… and the compatibility routes.
bool is_api(std::string_view path) { return starts_with(path, "/api/") || path == "/api" || is_compat_path(path); }

using net::detail::lower;

/// A request another site made the browser send: Sec-Fetch-Site says so, or its Origin
/// is not the host it was sent to. `strict`: a sibling site (Sec-Fetch-Site: same-site,
/// another port or subdomain) counts too.
bool cross_site(const http_request& req, bool strict = false) {
  if (const std::string* site = req.header("sec-fetch-site");
      site && (lower(*site) == "cross-site" || (strict && lower(*site) == "same-site")))
    return true;
  const std::string* origin = req.header("origin");
  if (!origin) return false;  // not a browser's cross-origin request (curl, scripts)
  const std::string* host = req.header("host");
  const std::string o = lower(*origin);
  const auto scheme = o.find("://");
  if (!host || scheme == std::string::npos) return true;  // "null" and the like
  return o.substr(scheme + 3) != lower(*host);
}

const asset* find_asset(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const asset& a : embedded_assets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace

web_app::web_app(app::host_queue& q, std::string token, net::host_allowlist hosts, worker_control* workers)
    : token_(std::move(token)), hosts_(std::move(hosts)), api_(q) {
  api_.register_routes(router_);
  register_compat_routes(router_, workers);
  // Interactive API docs: Swagger UI over /openapi.json, embedded at build time (or a plain
  // list of the routes where swagger-ui-dist was not installed; apps/web/CMakeLists.txt).
  router_.add("GET", "/docs", [](const http_request&, const route_params&) {
    const asset* a = find_asset("/docs.html");
    http_response r;
    r.content_type = std::string(a->content_type);
    r.body = std::string(a->body);
    return r;
  });
  router_.add("GET", "/openapi.json", [](const http_request&, const route_params&) {
    const asset* a = find_asset("/openapi.json");
    http_response r;
    r.body = std::string(a->body);
    return r;
  });
}

http_response web_app::error(int status, std::string_view id, std::string_view message) const {
  http_response r = error_response(status, id, message);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"queuectl\"");
  if (status == 503) r.headers.emplace_back("Retry-After", "1");
  secure(r, true);
  return r;
}

bool web_app::authorized(const http_request& req) const {
  return token_.empty() || net::bearer_matches(req.header("authorization"), token_);
}

http_response web_app::handle(const http_request& req) {
  const bool api = is_api(req.path);
  http_response r;
  try {
    r = dispatch(req);
  } catch (const http_error& e) {
    return error(e.status, e.id, e.message);
  } catch (const queuectl::error& e) {
    int status = 500;
    switch (e.kind()) {
      case error_kind::invalid_input: status = 400; break;
      case error_kind::not_found: status = 404; break;
      case error_kind::conflict: status = 409; break;
      case error_kind::storage: status = 503; break;
      case error_kind::runtime: status = 500; break;
    }
    return error(status, e.id(), e.message());
  }
  secure(r, api, req.path == "/docs" && r.status == 200 ? docs_csp : csp);
  return r;
}

http_response web_app::dispatch(const http_request& req) {
  const bool api = is_api(req.path);
  // Before anything else, pages and assets included: a request for a name we do not
  // answer to is a DNS-rebinding page (docs/security.md), whatever it asks for.
  if (!hosts_.allows(req.header("host"), req.local)) {
    const std::string* host = req.header("host");
    throw http_error{421, "queuectl.web.foreign_host",
                     host ? "requests for host '" + host->substr(0, 200) +
                                "' are refused (allowed: localhost, 127.0.0.1, [::1], the bound address, --allowed-host names)"
                          : std::string("missing Host header")};
  }
  // GET changes nothing (but below), so only other methods can be a forged action.
  if (req.method != "GET" && cross_site(req))
    throw http_error{403, "queuectl.web.cross_site", "cross-site request refused"};
  // Except the compatibility GETs that act (/worker/start, /worker/stop): an <img> or a link
  // on another site, even a sibling one, must not start or stop workers.
  // HEAD is a GET whose answer is dropped: link checkers and previews send it, never to act.
  if (req.head && get_changes_state(req.path)) {
    http_response r = error_response(405, "queuectl.web.method_not_allowed", "HEAD " + req.path + " does nothing: use POST");
    r.headers.emplace_back("Allow", "GET, POST");
    return r;
  }
  if (req.method == "GET" && get_changes_state(req.path) && cross_site(req, true))
    throw http_error{403, "queuectl.web.cross_site", "cross-site request refused: GET " + req.path +
                                                          " changes something; send it from this server's pages or a script"};
  if (api && !authorized(req))
    throw http_error{401, "queuectl.web.unauthorized",
                     req.header("authorization") ? "wrong token" : "missing token: send Authorization: Bearer <token>"};
  if (auto r = router_.dispatch(req)) return std::move(*r);
  if (!api) {
    if (const asset* a = find_asset(req.path)) {
      if (req.method != "GET") {
        http_response r = error_response(405, "queuectl.web.method_not_allowed", "only GET is allowed on " + req.path);
        r.headers.emplace_back("Allow", "GET");
        return r;
      }
      http_response r;
      r.content_type = std::string(a->content_type);
      r.body = std::string(a->body);
      return r;
    }
  }
  throw http_error{404, "queuectl.web.not_found", "no such endpoint: " + req.path};
}

}  // namespace queuectl::web
