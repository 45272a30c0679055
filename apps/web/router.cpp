#include "router.hpp"

#include <string>

namespace queuectl::web {

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

namespace {

void append_escape(std::string& out, unsigned code) {
  static constexpr char hex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(code >> shift) & 0xf];
}

/// The length of the valid UTF-8 sequence at `s[i]` and its code point, or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i, unsigned& code) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = b(i);
  std::size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  code = c & (0x3fu >> (len - 1));
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (b(i + k) & 0x3f);
  }
  const unsigned min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return len;
}

}  // namespace

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
        append_escape(out, c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    unsigned code = 0;
    const std::size_t len = utf8_sequence(s, i, code);
    if (len == 0) {
      append_escape(out, 0xfffd);  // not UTF-8: the replacement character, never the raw byte
      ++i;
      continue;
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      append_escape(out, 0xd800 + (code >> 10));
      append_escape(out, 0xdc00 + (code & 0x3ff));
    } else {
      append_escape(out, code);
    }
    i += len;
  }
  return out + "\"";
}

http_response error_response(int status, std::string_view id, std::string_view message) {
  http_response r;
  r.status = status;
  r.body = "{\"error\":{\"id\":" + json_string(id) + ",\"message\":" + json_string(message) + "}}";
  return r;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!name || !value) throw http_error{400, "queuectl.web.bad_query", "malformed percent-escape in the query string"};
    if (!out.emplace(std::move(*name), std::move(*value)).second)
      throw http_error{400, "queuectl.web.bad_query", "query parameter '" + std::string(pair.substr(0, eq)) + "' given twice"};
  }
  return out;
}

void router::add(std::string method, std::string pattern, route_handler handler) {
  route r{std::move(method), std::move(pattern), {}, std::move(handler)};
  r.segments = split_path(r.pattern);
  routes_.push_back(std::move(r));
}

bool router::match(const route& r, const std::vector<std::string>& segments, std::map<std::string, std::string>& out) {
  if (r.segments.size() != segments.size()) return false;
  out.clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = r.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      auto v = percent_decode(segments[i], false);
      if (!v || v->empty()) return false;
      out[want.substr(1, want.size() - 2)] = std::move(*v);
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

std::optional<http_response> router::dispatch(const http_request& req) const {
  const auto segments = split_path(req.path);
  std::string allow;
  route_params params;
  for (const auto& r : routes_) {
    if (!match(r, segments, params.path)) continue;
    if (r.method == req.method) {
      params.query = parse_query(req.query);
      return r.handler(req, params);
    }
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
  }
  if (allow.empty()) return std::nullopt;
  http_response res = error_response(405, "queuectl.web.method_not_allowed",
                                     "method " + req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
  res.headers.emplace_back("Allow", allow);
  return res;
}

std::vector<router::route_info> router::routes() const {
  std::vector<route_info> out;
  for (const auto& r : routes_) out.push_back({r.method, r.pattern});
  return out;
}

}  // namespace queuectl::web
