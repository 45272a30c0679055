// REST handlers. No Beast here: requests and responses are the plain structs of
// http_types.hpp. Errors are thrown (queuectl::error or http_error) and turned into
// `{"error": {"id", "message"}}` responses by web_app.
#include "rest_api.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>

#include "durations.hpp"
#include "json_output.hpp"
#include "snapshots.hpp"
#include "worker_liveness.hpp"
#include "queuectl/job_codec.hpp"
#include "queuectl/json_parse.hpp"
#include "queuectl/queue_config.hpp"

namespace queuectl::web {

namespace {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::size_t default_page = 50;
constexpr std::size_t max_page = 500;

/// JSON text that is safe wherever it lands: '<', '>' and '&' (which JSON only has inside
/// strings) become \u escapes, and bytes that are not UTF-8 (a job's raw output) become
/// U+FFFD, so every response is valid JSON and never readable as HTML.
std::string safe_json(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 16);
  for (std::size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (c == '<') out += "\\u003c";
      else if (c == '>') out += "\\u003e";
      else if (c == '&') out += "\\u0026";
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    bool ok = len > 0 && c <= 0xf4 && i + len <= in.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(in[i + k]) & 0xc0) == 0x80;
    if (ok && len == 3) {  // no overlongs, no surrogates
      const auto c1 = static_cast<unsigned char>(in[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    }
    if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(in[i + 1]);
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (!ok) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
}

template <class F>
http_response json(F&& write, int status = 200) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  write(w);
  http_response r;
  r.status = status;
  r.body = safe_json(std::string_view(sb.GetString(), sb.GetSize()));
  return r;
}

[[noreturn]] void bad_param(const std::string& message) { throw http_error{400, "queuectl.web.bad_param", message}; }

const std::string* param(const route_params& p, const char* name) {
  auto it = p.query.find(name);
  return it == p.query.end() ? nullptr : &it->second;
}

long long int_param(const route_params& p, const char* name, long long dflt, long long min, long long max) {
  const std::string* v = param(p, name);
  if (!v) return dflt;
  long long n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size() || n < min || n > max)
    bad_param(std::string(name) + ": '" + *v + "' is not an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return n;
}

job_state state_param(const std::string& v) {
  if (auto s = parse_job_state(v)) return *s;
  std::string valid;
  for (auto s : all_job_states) valid += (valid.empty() ? "" : ", ") + std::string(to_string(s));
  bad_param("state: unknown state '" + v + "' (valid: " + valid + ")");
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

/// A config value as the CLI's config_json writes it: a number when it reads as one.
void write_config_value(writer& w, const std::string& v) {
  rapidjson::Document d;
  if (parse_json(d, v).empty() && d.IsNumber()) w.RawValue(v.c_str(), v.size(), rapidjson::kNumberType);
  else app::write_string(w, v);
}

std::string about_key(const std::string& key) {
  for (const auto& [k, about] : queue_config::keys())
    if (k == key) return about;
  return "";
}

std::string config_key(const std::string& raw) {
  try {
    return queue_config::normalize_key(raw);
  } catch (const error& e) {
    throw http_error{404, e.id(), e.message()};
  }
}

}  // namespace

void only_params(const route_params& p, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, _] : p.query)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string known;
      for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      bad_param("unknown query parameter '" + k + "'" + (known.empty() ? " (this endpoint takes none)" : " (known: " + known + ")"));
    }
}

rapidjson::Document parse_body(const http_request& req) {
  const std::string* ct = req.header("content-type");
  std::string type = ct ? *ct : "";
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type.rfind("application/json", 0) != 0)
    throw http_error{415, "queuectl.web.content_type", "send the request body as Content-Type: application/json"};
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos)
    throw http_error{400, "queuectl.web.bad_json", "the request body is empty; a JSON value is required"};
  rapidjson::Document doc;
  if (const std::string why = parse_json(doc, req.body); !why.empty())
    throw http_error{400, "queuectl.web.bad_json", why};  // iterative parse, depth-limited (json_parse.hpp)
  return doc;
}

void rest_api::register_routes(router& r) {
  r.add("GET", "/api/status", [this](const http_request&, const route_params& p) {
    only_params(p, {});
    return status();
  });
  r.add("GET", "/api/metrics", [this](const http_request&, const route_params& p) { return metrics(p); });
  r.add("GET", "/api/metrics/throughput", [this](const http_request&, const route_params& p) { return throughput(p); });
  r.add("GET", "/api/workers", [this](const http_request&, const route_params& p) {
    only_params(p, {});
    return workers();
  });
  r.add("GET", "/api/jobs", [this](const http_request&, const route_params& p) { return list_jobs(p, std::nullopt); });
  r.add("POST", "/api/jobs", [this](const http_request& req, const route_params& p) {
    only_params(p, {});
    return enqueue(req);
  });
  r.add("GET", "/api/jobs/{id}", [this](const http_request&, const route_params& p) { return show(p.at("id")); });
  r.add("DELETE", "/api/jobs/{id}", [this](const http_request&, const route_params& p) { return remove(p.at("id")); });
  r.add("PATCH", "/api/jobs/{id}", [this](const http_request& req, const route_params& p) {
    only_params(p, {});
    return patch(p.at("id"), req);
  });
  r.add("POST", "/api/jobs/{id}/retry", [this](const http_request&, const route_params& p) { return retry(p.at("id")); });
  r.add("POST", "/api/jobs/{id}/cancel", [this](const http_request&, const route_params& p) { return cancel(p.at("id")); });
  r.add("GET", "/api/jobs/{id}/attempts", [this](const http_request&, const route_params& p) { return attempts(p.at("id")); });
  r.add("GET", "/api/jobs/{id}/attempts/{number}", [this](const http_request&, const route_params& p) {
    return attempt(p.at("id"), p.at("number"));
  });
  r.add("GET", "/api/dlq", [this](const http_request&, const route_params& p) { return list_jobs(p, job_state::dead); });
  r.add("POST", "/api/dlq/retry-all", [this](const http_request&, const route_params& p) {
    only_params(p, {});
    return retry_all_dead();
  });
  r.add("GET", "/api/config", [this](const http_request&, const route_params& p) {
    only_params(p, {});
    return config_all();
  });
  r.add("GET", "/api/config/{key}", [this](const http_request&, const route_params& p) { return config_one(p.at("key")); });
  r.add("POST", "/api/config/{key}", [this](const http_request& req, const route_params& p) {
    return config_set(p.at("key"), req);
  });
}

// ---- status, metrics, workers -----------------------------------------------------------

http_response rest_api::status() {
  app::status_snapshot s;
  s.counts = q_.counts();
  s.workers = q_.workers();
  s.waiting_by_executor = q_.waiting_by_executor();
  s.lease_seconds = q_.reload_config().lease_seconds;
  s.now = now();
  return json([&](writer& w) { app::write_status(w, s); });
}

http_response rest_api::metrics(const route_params& p) {
  only_params(p, {"since"});
  app::metrics_snapshot m;
  if (const std::string* since = param(p, "since")) {
    m.window = app::parse_duration(*since);
    if (!m.window || m.window->count() == 0) bad_param("since: '" + *since + "' is not a duration like 30s, 5m, 1h, 7d");
  }
  m.now = now();
  m.stats = q_.stats(m.window ? std::optional<time_point>(m.now - *m.window) : std::nullopt);
  m.counts = q_.counts();
  m.per_queue = q_.counts_by_queue();
  return json([&](writer& w) { app::write_metrics(w, m); });
}

http_response rest_api::throughput(const route_params& p) {
  only_params(p, {"minutes"});
  const int minutes = static_cast<int>(int_param(p, "minutes", 60, 1, 180));
  const auto buckets = history_.buckets(q_, now(), minutes);
  return json([&](writer& w) {
    w.StartObject();
    w.Key("bucket_seconds");
    w.Int(60);
    w.Key("buckets");
    w.StartArray();
    for (const auto& b : buckets) {
      w.StartObject();
      w.Key("start");
      app::write_string(w, to_rfc3339(b.start));
      w.Key("succeeded");
      w.Uint64(b.succeeded);
      w.Key("failed");
      w.Uint64(b.failed);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

http_response rest_api::workers() {
  const auto all = q_.workers();
  const double lease = q_.reload_config().lease_seconds;
  const time_point t = now();
  struct host_sum {
    int processes = 0, slots = 0, alive_slots = 0;
  };
  std::map<std::string, host_sum> hosts;
  for (const auto& w : all) {
    auto& h = hosts[w.hostname];
    ++h.processes;
    h.slots += w.slots;
    if (app::worker_is_fresh(w, t, lease)) h.alive_slots += w.slots;
  }
  return json([&](writer& w) {
    w.StartObject();
    w.Key("active");
    w.Int(app::active_slots(all, t, lease));
    w.Key("workers");
    w.StartArray();
    for (const auto& wi : all) app::write_worker(w, wi, app::liveness_of(wi, t, lease));
    w.EndArray();
    w.Key("hosts");
    w.StartArray();
    for (const auto& [name, h] : hosts) {
      w.StartObject();
      w.Key("hostname");
      app::write_string(w, name);
      w.Key("processes");
      w.Int(h.processes);
      w.Key("slots");
      w.Int(h.slots);
      w.Key("alive_slots");
      w.Int(h.alive_slots);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

// ---- jobs --------------------------------------------------------------------------------

http_response rest_api::list_jobs(const route_params& p, std::optional<job_state> fixed_state) {
  if (fixed_state) only_params(p, {"queue", "executor", "q", "limit", "cursor", "order"});
  else only_params(p, {"state", "queue", "executor", "q", "limit", "cursor", "order"});
  job_query query;
  query.state = fixed_state;
  if (const std::string* s = param(p, "state")) query.state = state_param(*s);
  if (const std::string* s = param(p, "queue")) {
    if (s->empty() || s->size() > 128) bad_param("queue: must be 1 to 128 characters");
    query.queue = *s;
  }
  if (const std::string* s = param(p, "executor")) {
    if (s->empty() || s->size() > 64) bad_param("executor: must be 1 to 64 characters");
    query.executor = *s;
  }
  if (const std::string* s = param(p, "q")) {
    if (s->size() > 256) bad_param("q: search text longer than 256 characters");
    if (s->find('\0') != std::string::npos) bad_param("q: search text contains a NUL byte");
    query.text = *s;
  }
  query.limit = static_cast<std::size_t>(int_param(p, "limit", default_page, 1, max_page));
  if (const std::string* s = param(p, "order")) {
    if (*s != "newest" && *s != "oldest") bad_param("order: '" + *s + "' is not newest or oldest");
    query.newest_first = *s == "newest";
  }
  if (const std::string* s = param(p, "cursor")) {
    query.after = decode_cursor(*s);
    if (!query.after) bad_param("cursor: not a cursor returned by this API");
    if (param(p, "order") && query.after->newest_first != query.newest_first)
      bad_param("cursor: it belongs to a listing in the other order");
    query.newest_first = query.after->newest_first;
  }
  const job_page page = query_jobs(q_, query);
  return json([&](writer& w) {
    w.StartObject();
    w.Key("jobs");
    w.StartArray();
    for (const auto& j : page.jobs) write_job(w, j);
    w.EndArray();
    w.Key("next_cursor");
    if (page.next_cursor) app::write_string(w, *page.next_cursor);
    else w.Null();
    w.EndObject();
  });
}

http_response rest_api::enqueue(const http_request& req) {
  const rapidjson::Document doc = parse_body(req);
  std::vector<job_spec> specs;
  const bool batch = doc.IsArray();
  if (batch) {
    if (doc.Empty()) throw error(error_kind::invalid_input, "queuectl.spec.empty_batch", "the array holds no job specs");
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
      try {
        specs.push_back(parse_job_spec(compact(doc[i])));
      } catch (const error& e) {
        throw error(e.kind(), e.id(), "job " + std::to_string(i + 1) + ": " + e.message());
      }
    }
  } else if (doc.IsObject()) {
    specs.push_back(parse_job_spec(compact(doc)));
  } else {
    throw error(error_kind::invalid_input, "queuectl.spec.not_object",
                "the body must be a job spec (a JSON object) or an array of them");
  }
  validator_.validate(specs);
  q_.reload_config();  // defaults (max-retries) as set by any process
  const auto ids = q_.enqueue(std::move(specs));  // one transaction: all or none
  http_response r = json(
      [&](writer& w) {
        w.StartObject();
        if (batch) {
          w.Key("ids");
          w.StartArray();
          for (const auto& id : ids) app::write_string(w, id);
          w.EndArray();
        } else {
          w.Key("id");
          app::write_string(w, ids.front());
        }
        w.EndObject();
      },
      201);
  if (!batch) r.headers.emplace_back("Location", "/api/jobs/" + ids.front());
  return r;
}

http_response rest_api::show(const std::string& id) {
  const job j = q_.get(id);
  http_response r;
  r.body = safe_json(app::job_json(j, q_.attempts(id)));  // exactly `queuectl show --json`
  return r;
}

http_response rest_api::attempts(const std::string& id) {
  q_.get(id);  // 404 for an unknown job rather than an empty list
  const auto list = q_.attempts(id);
  return json([&](writer& w) {
    w.StartArray();
    for (const auto& a : list) app::write_attempt(w, a);
    w.EndArray();
  });
}

http_response rest_api::attempt(const std::string& id, const std::string& number) {
  int n = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc() || end != number.data() + number.size() || n < 1)
    throw http_error{400, "queuectl.web.bad_param", "attempt number: '" + number + "' is not a positive integer"};
  q_.get(id);
  for (const auto& a : q_.attempts(id))
    if (a.number == n) return json([&](writer& w) { app::write_attempt(w, a); });
  throw http_error{404, "queuectl.web.no_attempt", "job '" + id + "' has no attempt " + number};
}

http_response rest_api::retry(const std::string& id) {
  q_.retry_dead(id);
  const job j = q_.get(id);
  return json([&](writer& w) { write_job(w, j); });
}

http_response rest_api::cancel(const std::string& id) {
  q_.cancel(id);
  const job j = q_.get(id);
  return json([&](writer& w) { write_job(w, j); });
}

http_response rest_api::remove(const std::string& id) {
  q_.remove(id);
  return json([&](writer& w) {
    w.StartObject();
    w.Key("deleted");
    app::write_string(w, id);
    w.EndObject();
  });
}

http_response patch_job(app::host_queue& q, const std::string& id, const rapidjson::Value& body,
                        app::spec_validator* validator) {
  static app::spec_validator shared;  // thread-safe: it locks
  app::spec_validator& v = validator ? *validator : shared;
  std::optional<std::string> body_id;
  const job_patch patch = patch_from_object(body, &body_id);
  if (!id.empty() && body_id && *body_id != id)
    throw invalid_field("id", "'" + *body_id + "' differs from the job in the URL ('" + id + "'); an id cannot be changed");
  const std::string target = id.empty() ? body_id.value_or("") : id;
  if (target.empty()) throw invalid_field("id", "required: the id of the job to change");
  const job j = q.update(target, patch, [&](const job_spec& s) { v.validate({s}); });
  http_response r;
  r.body = safe_json(app::job_json(j, q.attempts(j.id)));  // as GET /api/jobs/{id}
  return r;
}

http_response rest_api::patch(const std::string& id, const http_request& req) {
  const rapidjson::Document doc = parse_body(req);
  return patch_job(q_, id, doc, &validator_);
}

http_response rest_api::retry_all_dead() {
  const std::size_t n = q_.retry_dead_all();
  return json([&](writer& w) {
    w.StartObject();
    w.Key("requeued");
    w.Uint64(n);
    w.EndObject();
  });
}

// ---- config ------------------------------------------------------------------------------

http_response rest_api::config_all() {
  const auto view = q_.read_config();  // no structured binding: lambdas below capture them (clang 14)
  const queue_config& c = view.values;
  const auto& stored = view.stored;
  return json([&](writer& w) {
    w.StartObject();
    w.Key("config");  // the object `queuectl config get --json` prints
    w.StartObject();
    for (const auto& [k, _] : queue_config::keys()) {
      app::write_string(w, k);
      write_config_value(w, c.get(k));
    }
    w.EndObject();
    w.Key("settings");
    w.StartArray();
    for (const auto& [k, about] : queue_config::keys()) {
      w.StartObject();
      w.Key("key");
      app::write_string(w, k);
      w.Key("value");
      write_config_value(w, c.get(k));
      w.Key("is_set");
      w.Bool(stored.count(k) > 0);
      w.Key("about");
      app::write_string(w, about);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

http_response rest_api::config_one(const std::string& raw_key) {
  const std::string k = config_key(raw_key);
  const auto view = q_.read_config();  // no structured binding: lambdas below capture them (clang 14)
  const queue_config& c = view.values;
  const auto& stored = view.stored;
  const bool is_set = stored.count(k) > 0;
  return json([&](writer& w) {
    w.StartObject();
    w.Key("key");
    app::write_string(w, k);
    w.Key("value");
    write_config_value(w, c.get(k));
    w.Key("is_set");
    w.Bool(is_set);
    w.Key("about");
    app::write_string(w, about_key(k));
    w.EndObject();
  });
}

http_response rest_api::config_set(const std::string& raw_key, const http_request& req) {
  const std::string k = config_key(raw_key);
  const rapidjson::Document doc = parse_body(req);
  if (!doc.IsObject() || !doc.HasMember("value") || doc.MemberCount() != 1)
    throw error(error_kind::invalid_input, "queuectl.config.bad_body", "the body must be {\"value\": …}");
  const rapidjson::Value& v = doc["value"];
  std::string value;
  if (v.IsString()) value.assign(v.GetString(), v.GetStringLength());
  else if (v.IsNumber()) value = compact(v);
  else throw error(error_kind::invalid_input, "queuectl.config.bad_body", "value: must be a string or a number");
  q_.set_config(k, value);  // validated first: a bad value stores nothing
  return config_one(k);
}

}  // namespace queuectl::web
