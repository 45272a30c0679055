// The compatibility routes. The aliases re-dispatch a rewritten request into the router,
// so they answer with the /api handler itself: same JSON, same errors, same status codes.
#include "compat_routes.hpp"
#include "rest_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <string>

#include "queuectl/bounds.hpp"

namespace queuectl::web {

namespace {

constexpr std::string_view compat_paths[] = {"/enqueue",    "/list",       "/status",       "/dlq/list",   "/dlq/retry",
                                             "/config/set", "/config/get", "/worker/start", "/worker/stop", "/update"};

/// `s` as one path segment: everything but RFC 3986's unreserved characters escaped.
std::string path_segment(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

/// Answers `req` as if it had been sent as METHOD path?query (and `body`, when given).
http_response forward(const router& r, const http_request& req, std::string method, std::string path, std::string query,
                      const std::optional<std::string>& body = std::nullopt) {
  http_request fwd = req;
  fwd.method = std::move(method);
  fwd.path = std::move(path);
  fwd.query = std::move(query);
  fwd.target = fwd.path + (fwd.query.empty() ? "" : "?" + fwd.query);
  if (body) fwd.body = *body;
  auto res = r.dispatch(fwd);
  if (!res) throw http_error{500, "queuectl.web.internal", "no route for " + fwd.path};
  return std::move(*res);
}

const std::string* param(const route_params& p, const char* name) {
  auto it = p.query.find(name);
  return it == p.query.end() ? nullptr : &it->second;
}

const std::string& required(const route_params& p, const char* name) {
  const std::string* v = param(p, name);
  if (!v) throw http_error{400, "queuectl.web.bad_param", std::string(name) + ": required"};
  if (v->empty()) throw http_error{400, "queuectl.web.bad_param", std::string(name) + ": empty"};
  return *v;
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

int num_workers(const route_params& p) {
  const std::string* v = param(p, "num_workers");
  if (!v) return 1;
  long long n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size() ||
      !bounds::worker_slots.contains(static_cast<double>(n)))
    throw http_error{400, "queuectl.web.bad_param",
                     "num_workers: '" + v->substr(0, 64) + "' is not " + bounds::worker_slots.describe()};
  return static_cast<int>(n);
}

http_response json_response(const std::string& body) {
  http_response r;
  r.body = body;
  return r;
}

}  // namespace

bool is_compat_path(std::string_view path) {
  return std::find(std::begin(compat_paths), std::end(compat_paths), path) != std::end(compat_paths);
}

bool get_changes_state(std::string_view path) { return path == "/worker/start" || path == "/worker/stop"; }

void register_compat_routes(router& r, worker_control* workers) {
  const router& api = r;  // the /api routes are registered already; nothing is added while serving
  r.add("POST", "/enqueue", [&api](const http_request& req, const route_params&) {
    return forward(api, req, "POST", "/api/jobs", req.query);
  });
  r.add("GET", "/list", [&api](const http_request& req, const route_params&) {
    return forward(api, req, "GET", "/api/jobs", req.query);
  });
  r.add("GET", "/status", [&api](const http_request& req, const route_params&) {
    return forward(api, req, "GET", "/api/status", req.query);
  });
  r.add("GET", "/dlq/list", [&api](const http_request& req, const route_params&) {
    return forward(api, req, "GET", "/api/dlq", req.query);
  });
  r.add("POST", "/dlq/retry", [&api](const http_request& req, const route_params& p) {
    only_params(p, {"job_id"});
    return forward(api, req, "POST", "/api/jobs/" + path_segment(required(p, "job_id")) + "/retry", "");
  });
  r.add("GET", "/config/get", [&api](const http_request& req, const route_params& p) {
    only_params(p, {"key"});
    if (!param(p, "key")) return forward(api, req, "GET", "/api/config", "");
    return forward(api, req, "GET", "/api/config/" + path_segment(required(p, "key")), "");
  });
  // The body names the job ("id") and the fields to change, as `queuectl update` takes
  // them; PATCH /api/jobs/{id} checks and applies the whole body (it accepts the same id).
  r.add("PUT", "/update", [&api](const http_request& req, const route_params& p) {
    only_params(p, {});
    const rapidjson::Document doc = parse_body(req);
    if (!doc.IsObject() || !doc.HasMember("id") || !doc["id"].IsString() || doc["id"].GetStringLength() == 0)
      throw http_error{400, "queuectl.update.bad_body", "the body must be a JSON object with the job's \"id\" and the fields to change"};
    const std::string id(doc["id"].GetString(), doc["id"].GetStringLength());
    return forward(api, req, "PATCH", "/api/jobs/" + path_segment(id), "");
  });
  r.add("POST", "/config/set", [&api](const http_request& req, const route_params& p) {
    only_params(p, {});
    const rapidjson::Document doc = parse_body(req);
    if (!doc.IsObject() || doc.MemberCount() != 2 || !doc.HasMember("key") || !doc.HasMember("value"))
      throw http_error{400, "queuectl.config.bad_body", "the body must be {\"key\": …, \"value\": …}"};
    if (!doc["key"].IsString() || doc["key"].GetStringLength() == 0)
      throw http_error{400, "queuectl.config.bad_body", "key: must be a non-empty string"};
    const std::string key(doc["key"].GetString(), doc["key"].GetStringLength());
    return forward(api, req, "POST", "/api/config/" + path_segment(key), "",
                   "{\"value\":" + compact(doc["value"]) + "}");
  });

  const auto start = [workers](const http_request&, const route_params& p) {
    only_params(p, {"num_workers"});
    const int n = num_workers(p);
    if (!workers) throw http_error{501, "queuectl.web.no_workers", "this server runs no workers"};
    const worker_slots_state s = workers->start(n);
    return json_response("{\"slots\":" + std::to_string(s.slots) + ",\"busy\":" + std::to_string(s.busy) +
                         ",\"finishing\":" + std::to_string(s.finishing) + "}");
  };
  const auto stop = [workers](const http_request&, const route_params& p) {
    only_params(p, {});
    if (!workers) throw http_error{501, "queuectl.web.no_workers", "this server runs no workers"};
    const worker_stop_report s = workers->stop();
    return json_response("{\"stopped_slots\":" + std::to_string(s.stopped_slots) + ",\"signalled\":" +
                         std::to_string(s.signalled) + ",\"other_hosts\":" + std::to_string(s.other_hosts) + "}");
  };
  r.add("GET", "/worker/start", start);
  r.add("POST", "/worker/start", start);
  r.add("GET", "/worker/stop", stop);
  r.add("POST", "/worker/stop", stop);
}

}  // namespace queuectl::web
