// The /api handlers: jobs (enqueue, list, show, attempts, retry, cancel, delete), the
// dead-letter queue, config, status, metrics, throughput history and workers. JSON comes
// from the same writers as the CLI's --json (apps/common/json_output.hpp, job_codec.hpp).
#pragma once

#include <rapidjson/document.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "host_queue.hpp"
#include "job_query.hpp"
#include "router.hpp"
#include "spec_validation.hpp"

namespace queuectl::web {

/// 400 `queuectl.web.bad_param` for a query parameter not in `allowed`.
void only_params(const route_params& p, std::initializer_list<std::string_view> allowed);
/// The request's JSON body: 415 unless Content-Type is application/json, 400 when empty or
/// malformed (iterative, depth-limited parse: json_parse.hpp). Every JSON route uses it.
rapidjson::Document parse_body(const http_request& req);

/// @brief `PATCH /api/jobs/{id}`: changes a job that is not running (docs/cli.md, "update")
/// from a JSON object of the fields to change, and answers with the job as `GET
/// /api/jobs/{id}` does (200). `id` names the job; when empty, the body's "id" does (for
/// routes that take it there, e.g. `PUT /update`); a body "id" that differs from a given
/// `id` is refused. Throws queuectl::error: invalid_input (400: bad or unknown field,
/// target state other than pending/canceled), not_found (404), conflict (409: running,
/// or a move the job's state does not allow). Nothing is changed on a throw.
/// `validator` runs the executor plugins' checks; null: a shared one.
http_response patch_job(app::host_queue& q, const std::string& id, const rapidjson::Value& body,
                        app::spec_validator* validator = nullptr);

class rest_api {
 public:
  explicit rest_api(app::host_queue& q) : q_(q) {}
  rest_api(const rest_api&) = delete;
  rest_api& operator=(const rest_api&) = delete;

  /// Adds every /api route to `r` (the handlers keep a reference to this object).
  void register_routes(router& r);

 private:
  http_response status();
  http_response metrics(const route_params& p);
  http_response throughput(const route_params& p);
  http_response workers();
  http_response list_jobs(const route_params& p, std::optional<job_state> fixed_state);
  http_response enqueue(const http_request& req);
  http_response show(const std::string& id);
  http_response attempts(const std::string& id);
  http_response attempt(const std::string& id, const std::string& number);
  http_response retry(const std::string& id);
  http_response cancel(const std::string& id);
  http_response remove(const std::string& id);
  http_response patch(const std::string& id, const http_request& req);
  http_response retry_all_dead();
  http_response config_all();
  http_response config_one(const std::string& key);
  http_response config_set(const std::string& key, const http_request& req);

  app::host_queue& q_;
  app::spec_validator validator_;
  throughput_history history_;
};

}  // namespace queuectl::web
