// The plain request/response structs between the HTTP server (the only Beast user) and
// the application (router, REST handlers, static files), which never see Beast.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace queuectl::web {

struct http_request {
  std::string method;  ///< "GET", "POST", … (HEAD arrives as GET; the server drops the body)
  bool head = false;   ///< it was HEAD
  std::string target;  ///< as sent: "/api/jobs?state=dead"
  std::string path;    ///< target before '?', not decoded
  std::string query;   ///< target after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;  ///< names in lower case
  std::string body;
  std::string remote;  ///< peer address, for logs
  std::string local;   ///< address the connection arrived on ("127.0.0.1", "[::1]"), no port

  /// The first header called `name` (lower case), or nullptr.
  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return &v;
    return nullptr;
  }
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
};

/// Answers one request; may throw (the server then answers 500).
using http_handler = std::function<http_response(const http_request&)>;
/// Builds an error response for failures found by the server itself (400 malformed,
/// 413 too large, 500 handler threw), so they carry the same JSON shape and headers.
using http_error_handler = std::function<http_response(int status, std::string_view id, std::string_view message)>;

}  // namespace queuectl::web
