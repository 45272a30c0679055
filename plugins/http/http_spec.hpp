/// @file
/// @brief The `http` executor's request model: payload parsing and validation, URL parsing,
/// redirect targets and `Retry-After` values.
///
/// Deliberately free of Beast/Asio (only RapidJSON and the standard library), so that the
/// unit tests can include it cheaply and the plugin's single Beast TU stays the only slow one.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "queuectl/bounds.hpp"
#include "queuectl/json_parse.hpp"

namespace queuectl::http_executor {

/// @brief An absolute http(s) URL split into what a client needs.
struct url {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< without IPv6 brackets
  std::uint16_t port = 0;
  std::string target = "/";  ///< path and query, never empty; the fragment is dropped

  bool tls() const { return scheme == "https"; }
  bool default_port() const { return port == (tls() ? 443 : 80); }
  /// `host[:port]` as the Host header wants it (IPv6 literals in brackets).
  std::string authority() const {
    const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return default_port() ? h : h + ":" + std::to_string(port);
  }
  std::string str() const { return scheme + "://" + authority() + target; }
  bool same_origin(const url& o) const { return scheme == o.scheme && host == o.host && port == o.port; }
};

/// @brief What one job asks for: the parsed, validated payload.
struct request_spec {
  url target;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;  ///< in payload order
  std::optional<std::string> body;
  bool body_is_json = false;      ///< body was a JSON value: default Content-Type application/json
  std::optional<double> timeout;  ///< seconds, > 0
};

/// Either a value or a one-line reason naming the field (`payload.url: ...`).
template <class T>
struct parsed {
  std::optional<T> value;
  std::string error;
  static parsed fail(std::string why) { return {std::nullopt, std::move(why)}; }
};

inline constexpr std::string_view known_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

namespace detail {

inline bool is_token_char(char c) {
  // RFC 9110 tchar: what a header name may contain.
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline bool valid_host(std::string_view h, bool bracketed) {
  if (h.empty() || h.size() > 253) return false;
  const std::string_view allowed = bracketed ? "0123456789abcdefABCDEF:." : "-._";
  return std::all_of(h.begin(), h.end(), [&](char c) {
    return allowed.find(c) != std::string_view::npos || (!bracketed && std::isalnum(static_cast<unsigned char>(c)));
  });
}

inline std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return {sb.GetString(), sb.GetSize()};
}

}  // namespace detail

/// Parses an absolute `http://` or `https://` URL. Errors are phrased for `payload.url: `.
inline parsed<url> parse_url(std::string_view s) {
  using R = parsed<url>;
  if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return R::fail("must not contain spaces or control characters");
  const auto colon = s.find("://");
  if (colon == std::string_view::npos) return R::fail("must be an absolute URL such as http://host/path");
  url u;
  u.scheme = detail::lower(std::string(s.substr(0, colon)));
  if (u.scheme != "http" && u.scheme != "https") return R::fail("scheme must be http or https");
  s.remove_prefix(colon + 3);
  const auto end_of_authority = std::min(s.find_first_of("/?#"), s.size());
  std::string_view authority = s.substr(0, end_of_authority), rest = s.substr(end_of_authority);
  if (authority.find('@') != std::string_view::npos)
    return R::fail("credentials in the URL are not supported (send an Authorization header)");
  std::string_view host, port;
  const bool bracketed = !authority.empty() && authority.front() == '[';
  if (bracketed) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return R::fail("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return R::fail("unparsable host");
    if (!after.empty()) port = after.substr(1);
    if (!after.empty() && port.empty()) return R::fail("empty port");
  } else {
    const auto c = authority.rfind(':');
    host = authority.substr(0, c);
    if (c != std::string_view::npos) {
      port = authority.substr(c + 1);
      if (port.empty()) return R::fail("empty port");
    }
  }
  if (host.empty()) return R::fail("missing host");
  if (!detail::valid_host(host, bracketed)) return R::fail("unparsable host '" + std::string(host) + "'");
  u.host = bracketed ? std::string(host) : detail::lower(std::string(host));
  if (port.empty()) {
    u.port = u.tls() ? 443 : 80;
  } else {
    unsigned long n = 0;
    const bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) n = std::stoul(std::string(port));
    if (!digits || n == 0 || n > 65535) return R::fail("port must be a number from 1 to 65535, got '" + std::string(port) + "'");
    u.port = static_cast<std::uint16_t>(n);
  }
  rest = rest.substr(0, std::min(rest.find('#'), rest.size()));
  u.target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
  return {std::move(u), {}};
}

/// The URL a `Location` header points to, relative to `base` (absolute, `//host/...`,
/// `/path` or a path relative to base's directory).
inline parsed<url> resolve_location(const url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parse_url(location);
  if (location.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(location));
  url u = base;
  if (location.empty() || location.front() == '#') return {std::move(u), {}};
  std::string path(location.substr(0, std::min(location.find('#'), location.size())));
  if (path.front() == '?') {
    u.target = base.target.substr(0, base.target.find('?')) + path;
  } else if (path.front() == '/') {
    u.target = path;
  } else {
    const std::string dir = base.target.substr(0, base.target.substr(0, base.target.find('?')).rfind('/') + 1);
    u.target = dir + path;
  }
  if (std::any_of(u.target.begin(), u.target.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; }))
    return parsed<url>::fail("Location contains spaces or control characters");
  return {std::move(u), {}};
}

/// Parses and validates a job payload. The error names the field: `payload.method: ...`.
inline parsed<request_spec> parse_payload(std::string_view json) {
  using R = parsed<request_spec>;
  rapidjson::Document doc;
  if (const std::string why = parse_json(doc, json); !why.empty()) return R::fail("payload: not valid JSON: " + why);
  if (!doc.IsObject()) return R::fail("payload: must be a JSON object");
  request_spec spec;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string key(it->name.GetString(), it->name.GetStringLength());
    if (key != "url" && key != "method" && key != "headers" && key != "body" && key != "timeout")
      return R::fail("payload." + key + ": unknown field (known: url, method, headers, body, timeout)");
  }

  const auto u = doc.FindMember("url");
  if (u == doc.MemberEnd()) return R::fail("payload.url: required (e.g. \"http://host:port/path\")");
  if (!u->value.IsString()) return R::fail("payload.url: must be a string");
  auto target = parse_url({u->value.GetString(), u->value.GetStringLength()});
  if (!target.value) return R::fail("payload.url: " + target.error);
  spec.target = std::move(*target.value);

  if (const auto m = doc.FindMember("method"); m != doc.MemberEnd()) {
    if (!m->value.IsString()) return R::fail("payload.method: must be a string");
    std::string method(m->value.GetString(), m->value.GetStringLength());
    for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (std::find(std::begin(known_methods), std::end(known_methods), method) == std::end(known_methods))
      return R::fail("payload.method: must be one of GET HEAD POST PUT PATCH DELETE OPTIONS, got '" +
                     std::string(m->value.GetString(), m->value.GetStringLength()) + "'");
    spec.method = std::move(method);
  }

  if (const auto h = doc.FindMember("headers"); h != doc.MemberEnd()) {
    if (!h->value.IsObject()) return R::fail("payload.headers: must be an object of strings");
    for (auto it = h->value.MemberBegin(); it != h->value.MemberEnd(); ++it) {
      const std::string name(it->name.GetString(), it->name.GetStringLength());
      const std::string field = "payload.headers." + name;
      if (name.empty() || !std::all_of(name.begin(), name.end(), detail::is_token_char))
        return R::fail(field + ": not a valid header name");
      if (!it->value.IsString()) return R::fail(field + ": must be a string");
      std::string value(it->value.GetString(), it->value.GetStringLength());
      if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        return R::fail(field + ": must not contain CR, LF or NUL");
      // The executor frames the body itself; a user value would corrupt the framing.
      if (detail::iequals(name, "Content-Length") || detail::iequals(name, "Transfer-Encoding"))
        return R::fail(field + ": set by the executor, not allowed in the payload");
      spec.headers.emplace_back(name, std::move(value));
    }
  }

  if (const auto b = doc.FindMember("body"); b != doc.MemberEnd() && !b->value.IsNull()) {
    if (b->value.IsString()) {
      spec.body.emplace(b->value.GetString(), b->value.GetStringLength());
    } else {
      spec.body = detail::compact(b->value);
      spec.body_is_json = true;
    }
  }

  if (const auto t = doc.FindMember("timeout"); t != doc.MemberEnd()) {
    // Bounded like a job's own timeout (bounds.hpp), so the deadline arithmetic cannot overflow.
    if (!t->value.IsNumber() || !(t->value.GetDouble() > 0) || !bounds::timeout.contains(t->value.GetDouble()))
      return R::fail("payload.timeout: must be a positive number of seconds up to " +
                     number_bound::format(bounds::timeout.max));
    spec.timeout = t->value.GetDouble();
  }
  return {std::move(spec), {}};
}

/// A `Retry-After` value (delta-seconds, or an HTTP-date in any of the three RFC 9110
/// formats) as a wait from `now`; a past date is zero, garbage is nullopt.
inline std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view v,
                                                                   std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  // Guards the arithmetic against absurd values; no server means a month.
  constexpr std::int64_t max_seconds = 30LL * 24 * 3600;
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t s = 0;
    for (char c : v) s = std::min(max_seconds, s * 10 + (c - '0'));
    return milliseconds(s * 1000);
  }
  static constexpr std::string_view months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const std::string text(v);
  char mon[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0, used = 0;
  const auto full = [&] { return used == static_cast<int>(text.size()); };
  // IMF-fixdate (Sun, 06 Nov 1994 08:49:37 GMT), RFC 850 (Sunday, 06-Nov-94 ...), asctime.
  bool ok = (std::sscanf(text.c_str(), "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", &day, mon, &year, &hh, &mm, &ss, &used) == 6 && full());
  if (!ok) {
    used = 0;
    ok = std::sscanf(text.c_str(), "%*[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", &day, mon, &year, &hh, &mm, &ss, &used) == 6 && full();
    if (ok) year += year < 70 ? 2000 : 1900;
  }
  if (!ok) {
    used = 0;
    ok = std::sscanf(text.c_str(), "%*3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", mon, &day, &hh, &mm, &ss, &year, &used) == 6 && full();
  }
  const auto m = months.find(mon);
  if (!ok || std::string_view(mon).size() != 3 || m == std::string_view::npos || m % 3 != 0 || day < 1 || day > 31 ||
      hh > 23 || mm > 59 || ss > 60)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(m / 3);
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  // In whole seconds: from_time_t() of a year-0 or year-9999 date overflows the clock's
  // nanoseconds (found by tests/fuzz/fuzz_http_payload).
  const std::int64_t at = ::timegm(&tm);
  const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t wait_s = std::clamp<std::int64_t>(at - now_s, 0, max_seconds);
  return milliseconds(wait_s * 1000);
}

}  // namespace queuectl::http_executor
