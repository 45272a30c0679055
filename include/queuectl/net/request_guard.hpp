/// @file
/// @brief The two checks every listener of queuectl makes before it routes a request:
/// the `Host` it was sent to (DNS rebinding) and the bearer token. One implementation for
/// the dashboard/REST API and the plugins' listeners (prometheus), so the rules agree.
/// docs/security.md explains the threats behind them.
#pragma once

#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/error.hpp"

namespace queuectl::net {

namespace detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

}  // namespace detail

/// The host part of a `Host` header value, lower-cased, brackets kept for IPv6:
/// "LocalHost:8080" → "localhost", "[::1]:80" → "[::1]". Empty when the value is not a
/// well-formed `host[:port]` (userinfo, spaces, a path, a port that is not a number...).
inline std::string host_of(std::string_view value) {
  std::string_view host = value, port;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos) return {};
    host = value.substr(0, close + 1);
    const std::string_view rest = value.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return {};
      port = rest.substr(1);
      if (port.empty()) return {};
    }
    for (char c : host.substr(1, host.size() - 2))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return {};
    if (host.size() < 3) return {};
  } else {
    if (const auto colon = value.find(':'); colon != std::string_view::npos) {
      host = value.substr(0, colon);
      port = value.substr(colon + 1);
      if (port.empty()) return {};
    }
    if (host.empty()) return {};
    for (char c : host)
      if (!detail::is_name_char(c)) return {};
  }
  if (port.size() > 5) return {};
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return {};
  return detail::lower(host);
}

/// Checks a name given with `--allowed-host` / `QUEUECTL_ALLOWED_HOSTS`: a host name or an
/// address, without a port. Returns the normalized name, or nullopt when it is not one.
inline std::optional<std::string> normalize_allowed_host(std::string_view name) {
  if (name.empty() || name.size() > 253) return std::nullopt;
  const std::string host = host_of(name);
  // host_of accepts "name:port"; an allowed host has no port.
  if (host.empty() || host.size() != name.size()) return std::nullopt;
  return host;
}

/// The names a listener answers to. Always `localhost`, `127.0.0.1` and `[::1]`; plus the
/// address it is bound to and the names the user allowed. A request whose `Host` is none
/// of them (nor the address of the interface it arrived on, an IP literal the client
/// connected to) is refused: a page whose own name was rebound to 127.0.0.1 sends its
/// own name as `Host`, so it never reaches a handler.
class host_allowlist {
 public:
  host_allowlist() : names_{"localhost", "127.0.0.1", "[::1]"} {}

  /// Adds a name (lower-cased). IPv6 addresses may come with or without brackets.
  void allow(std::string_view name) {
    std::string n = detail::lower(name);
    if (n.find(':') != std::string::npos && n.front() != '[') n = "[" + n + "]";
    if (!n.empty() && !allows_name(n)) names_.push_back(std::move(n));
  }

  /// The bound address of the listener (a wildcard too: "0.0.0.0" is an address literal a
  /// client may type, and no DNS answer can make a page's origin one).
  void allow_bound(std::string_view address) { allow(address); }

  /// `host_header`: the request's Host value (nullptr when absent); `local_address`: the
  /// address the connection arrived on ("127.0.0.1", "[::1]"), empty when unknown.
  bool allows(const std::string* host_header, std::string_view local_address = {}) const {
    if (!host_header) return false;
    const std::string host = host_of(*host_header);
    if (host.empty()) return false;
    if (allows_name(host)) return true;
    return !local_address.empty() && host == detail::lower(local_address);
  }

  const std::vector<std::string>& names() const { return names_; }

 private:
  bool allows_name(std::string_view n) const {
    for (const auto& a : names_)
      if (a == n) return true;
    return false;
  }
  std::vector<std::string> names_;
};

/// Splits `QUEUECTL_ALLOWED_HOSTS` (or any comma/space separated list) into names; a name
/// that is not a valid host is returned in `bad` so the caller can refuse to start.
inline std::vector<std::string> split_host_list(std::string_view list, std::string* bad = nullptr) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ',' || list[i] == ' ')) ++i;
    std::size_t j = i;
    while (j < list.size() && list[j] != ',' && list[j] != ' ') ++j;
    if (j > i) {
      const std::string_view item = list.substr(i, j - i);
      if (auto n = normalize_allowed_host(item)) out.push_back(*n);
      else if (bad && bad->empty()) *bad = std::string(item);
    }
    i = j;
  }
  return out;
}

/// The names of `--allowed-host` flags plus those of `QUEUECTL_ALLOWED_HOSTS`, normalized.
/// Throws queuectl::error (invalid_input, exit 2) naming the first one that is not a host.
inline std::vector<std::string> allowed_hosts(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  for (const auto& f : flags) {
    auto n = normalize_allowed_host(f);
    if (!n)
      throw error(error_kind::invalid_input, "queuectl.net.allowed_host",
                  "--allowed-host: '" + f.substr(0, 100) + "' is not a host name or address (no port, no scheme)");
    out.push_back(*n);
  }
  if (const char* env = std::getenv("QUEUECTL_ALLOWED_HOSTS"); env && *env) {
    std::string bad;
    for (auto& n : split_host_list(env, &bad)) out.push_back(std::move(n));
    if (!bad.empty())
      throw error(error_kind::invalid_input, "queuectl.net.allowed_host",
                  "QUEUECTL_ALLOWED_HOSTS: '" + bad.substr(0, 100) + "' is not a host name or address");
  }
  return out;
}

/// Compares without returning early, so the time taken says nothing about the secret.
inline bool same_secret(std::string_view given, std::string_view expected) {
  if (expected.empty()) return false;
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  return diff == 0;
}

/// True when `authorization` (the header's value, nullptr when absent) is
/// `Bearer <token>`. The scheme is case-insensitive (RFC 9110 §11.1), the token is not.
inline bool bearer_matches(const std::string* authorization, std::string_view token) {
  constexpr std::string_view scheme = "bearer ";
  if (!authorization || authorization->size() <= scheme.size()) return false;
  if (detail::lower(std::string_view(*authorization).substr(0, scheme.size())) != scheme) return false;
  std::string_view given = std::string_view(*authorization).substr(scheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  return same_secret(given, token);
}

}  // namespace queuectl::net
