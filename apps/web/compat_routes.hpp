// The REST routes of the FastAPI QueueCTL tools, as aliases over /api (docs/dashboard.md,
// "Coming from another QueueCTL"): each answers exactly what its /api route answers,
// through the same handler. Plus /worker/start and /worker/stop, which drive the serving
// process's worker slots through worker_control.
#pragma once

#include <string_view>

#include "router.hpp"
#include "worker_control.hpp"

namespace queuectl::web {

/// A path of these routes: an API call like /api/… (token, no-store), though not under /api.
bool is_compat_path(std::string_view path);

/// The GET routes that change something (/worker/start, /worker/stop: the FastAPI tools
/// answer GET there). web_app refuses them when a browser says another site sent them.
bool get_changes_state(std::string_view path);

/// Adds the routes to `r`, which must already hold the /api routes they re-dispatch to.
/// `workers` null: /worker/start and /worker/stop answer 501.
void register_compat_routes(router& r, worker_control* workers);

}  // namespace queuectl::web
