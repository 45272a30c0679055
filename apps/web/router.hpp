// Route table for the REST API: METHOD + pattern ("/api/jobs/{id}/attempts/{number}"),
// path parameters, query strings, and the JSON error shape shared by every response.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_types.hpp"

namespace queuectl::web {

/// A failure to report as `{"error": {"id": …, "message": …}}` with an HTTP status.
struct http_error {
  int status;
  std::string id;
  std::string message;
};

/// The JSON error response (ids are stable: tests and scripts may match on them).
http_response error_response(int status, std::string_view id, std::string_view message);
/// A JSON string literal in pure ASCII: control characters, `<>&` and every non-ASCII
/// character escaped, bytes that are not UTF-8 replaced by U+FFFD. Error messages echo
/// what clients sent (paths, ids); this keeps them valid JSON with no markup in them.
std::string json_string(std::string_view s);

/// Percent-decoding ('+' is a space in query strings only); nullopt for bad escapes.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);

/// Query string as name → value (decoded). Throws http_error 400 for bad escapes or a
/// repeated name.
std::map<std::string, std::string> parse_query(std::string_view query);

struct route_params {
  std::map<std::string, std::string> path;   ///< {id} → value, decoded
  std::map<std::string, std::string> query;  ///< decoded
  const std::string& at(const std::string& name) const { return path.at(name); }
};

using route_handler = std::function<http_response(const http_request&, const route_params&)>;

class router {
 public:
  struct route_info {
    std::string method;
    std::string pattern;
  };

  /// Registers METHOD pattern; `{name}` matches one non-empty path segment.
  void add(std::string method, std::string pattern, route_handler handler);

  /// nullopt when no pattern matches the path (404); an error response with an Allow
  /// header when the path matches for other methods only (405); else the handler's answer.
  std::optional<http_response> dispatch(const http_request& req) const;

  /// Every route in registration order (the OpenAPI test compares them to the document).
  std::vector<route_info> routes() const;

 private:
  struct route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    route_handler handler;
  };
  static bool match(const route& r, const std::vector<std::string>& segments, std::map<std::string, std::string>& out);
  std::vector<route> routes_;
};

}  // namespace queuectl::web
