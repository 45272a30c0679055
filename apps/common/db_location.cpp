#include "db_location.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "queuectl/error.hpp"  // error, printable_line

namespace queuectl::app {

namespace {
std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

void make_private_dir(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::exists(dir)) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw error(error_kind::runtime, "queuectl.db.directory",
                "cannot create directory " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool is_url(std::string_view db) { return starts_with(db, "postgresql://") || starts_with(db, "postgres://"); }

/// libpq's connection keywords (PostgreSQL 15, `PQconndefaults`).
bool libpq_keyword(std::string_view k) {
  static constexpr std::string_view known[] = {
      "host", "hostaddr", "port", "dbname", "user", "password", "passfile", "channel_binding", "connect_timeout",
      "client_encoding", "options", "application_name", "fallback_application_name", "keepalives",
      "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "sslmode", "sslcompression",
      "sslcert", "sslkey", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
      "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib", "service",
      "target_session_attrs", "replication"};
  for (auto n : known)
    if (n == k) return true;
  return false;
}

/// One `key = value` of libpq's keyword form: where the value starts and ends in `s`.
struct keyword_pair {
  std::string key;
  std::size_t value_begin, value_end;
};

/// Splits libpq keyword syntax (values bare or single-quoted with \ escapes); nullopt when
/// `s` is not in that syntax at all.
std::optional<std::vector<keyword_pair>> split_keywords(std::string_view s) {
  std::vector<keyword_pair> out;
  std::size_t i = 0;
  const auto space = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  space();
  while (i < s.size()) {
    const std::size_t k0 = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
    if (i == k0) return std::nullopt;
    std::string key(s.substr(k0, i - k0));
    space();
    if (i >= s.size() || s[i] != '=') return std::nullopt;
    ++i;
    space();
    keyword_pair p{std::move(key), i, i};
    if (i < s.size() && s[i] == '\'') {
      ++i;
      p.value_begin = i;
      while (i < s.size() && s[i] != '\'') i += s[i] == '\\' ? 2 : 1;
      if (i >= s.size()) return std::nullopt;  // unterminated quote
      p.value_end = i++;
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      p.value_end = i;
    }
    out.push_back(std::move(p));
    space();
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool secret_key(std::string_view k) { return k == "password" || k == "sslpassword"; }

/// Offsets [begin, end) of the value of query parameter `name` in a URL, each occurrence.
std::vector<std::pair<std::size_t, std::size_t>> url_params(std::string_view url, bool (*want)(std::string_view)) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return out;
  std::size_t i = q + 1;
  while (i <= url.size()) {
    std::size_t end = url.find('&', i);
    if (end == std::string_view::npos) end = url.size();
    const std::string_view item = url.substr(i, end - i);
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos && want(item.substr(0, eq))) out.emplace_back(i + eq + 1, end);
    i = end + 1;
  }
  return out;
}

std::string redact(const std::string& db) {
  std::string out = db;
  if (db.find("://") != std::string::npos) {  // any URL: a mistyped scheme may carry a password too
    // Back to front, so earlier offsets stay valid.
    auto params = url_params(db, +[](std::string_view k) { return secret_key(k); });
    for (auto it = params.rbegin(); it != params.rend(); ++it) out.replace(it->first, it->second - it->first, "***");
    const std::size_t scheme_end = out.find("://") + 3;  // present: checked above
    // The last '@' before the query: a password may hold an unescaped '/'.
    const std::size_t authority_end = out.find_first_of("?#", scheme_end);
    const std::size_t at = out.rfind('@', authority_end == std::string::npos ? out.size() : authority_end);
    if (at != std::string::npos && at >= scheme_end) {
      const std::size_t colon = out.find(':', scheme_end);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    return out;
  }
  if (auto pairs = split_keywords(db)) {
    for (auto it = pairs->rbegin(); it != pairs->rend(); ++it)
      if (secret_key(it->key)) out.replace(it->value_begin, it->value_end - it->value_begin, "***");
  }
  return out;
}

[[noreturn]] void refuse(const std::string& db, const std::string& why) {
  throw error(error_kind::invalid_input, "queuectl.db.invalid", "database '" + display_db(db) + "': " + why);
}

/// A SQLite path must be a plausible file name: refused otherwise, before anything is
/// created (a mistyped connection string must not become a file full of secrets).
void check_sqlite_path(const std::string& db) {
  if (db.size() > 4096) refuse(db, "longer than 4096 characters");
  for (unsigned char c : db)
    if (c < 0x20 || c == 0x7f) refuse(db, "contains control characters");
  if (db.find("://") != std::string::npos || starts_with(db, "file:"))
    refuse(db, "not a file path, and the only URLs understood are postgresql:// and postgres://");
  if (auto pairs = split_keywords(db); pairs && db.find('=') != std::string::npos &&
                                       db.find_first_of(" \t") != std::string::npos)
    refuse(db, "looks like a connection string but names no PostgreSQL keyword (host=, dbname=, ...)");
  if (db.back() == '/') refuse(db, "is a directory");
  struct stat st {};
  if (::stat(db.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) refuse(db, "is a directory");
    // SQLite would create <path>-journal / -wal beside a device or FIFO, or block on it.
    if (!S_ISREG(st.st_mode)) refuse(db, "is not a regular file (a device, FIFO or socket)");
  }
}
}  // namespace

bool is_postgresql_url(const std::string& db) {
  if (is_url(db)) return true;
  const auto pairs = split_keywords(db);
  if (!pairs) return false;
  bool known = false;
  for (const auto& p : *pairs) known = known || libpq_keyword(p.key);
  return known;
}

std::string display_db(const std::string& db) { return printable_line(redact(db)); }

std::optional<int> connect_timeout_of(const std::string& db) {
  std::string_view v;
  if (is_url(db)) {
    const auto ps = url_params(db, +[](std::string_view k) { return k == "connect_timeout"; });
    if (ps.empty()) return std::nullopt;
    v = std::string_view(db).substr(ps.back().first, ps.back().second - ps.back().first);
  } else if (auto pairs = split_keywords(db)) {
    bool found = false;
    for (const auto& p : *pairs)
      if (p.key == "connect_timeout") v = std::string_view(db).substr(p.value_begin, p.value_end - p.value_begin), found = true;
    if (!found) return std::nullopt;
  } else {
    return std::nullopt;
  }
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return n;
}

std::string with_connect_timeout(const std::string& db, int default_seconds) {
  if (!is_postgresql_url(db) || connect_timeout_of(db)) return db;
  const std::string t = "connect_timeout=" + std::to_string(default_seconds);
  if (!is_url(db)) return db + " " + t;
  const std::size_t hash = db.find('#');
  const std::string base = db.substr(0, hash);
  const std::string frag = hash == std::string::npos ? "" : db.substr(hash);
  return base + (base.find('?') == std::string::npos ? "?" : (base.back() == '?' || base.back() == '&' ? "" : "&")) + t +
         frag;
}

std::string resolve_db(const std::optional<std::string>& flag) {
  std::string db = flag ? *flag : env_or_empty("QUEUECTL_DB");
  if (db.empty() && !flag) db = env_or_empty("QUEUECTL_DB_PATH");  // other QueueCTL tools' name; QUEUECTL_DB wins
  if (db.empty()) {
    std::string home = env_or_empty("QUEUECTL_HOME");
    if (home.empty()) {
      const std::string user_home = env_or_empty("HOME");
      if (user_home.empty())
        throw error(error_kind::invalid_input, "queuectl.db.no_home",
                    "cannot find the database: set --db, QUEUECTL_DB, QUEUECTL_DB_PATH, QUEUECTL_HOME or HOME");
      home = user_home + "/.queuectl";
    }
    db = home + "/queue.db";
  }
  if (is_postgresql_url(db)) return db;
  check_sqlite_path(db);
  make_private_dir(std::filesystem::path(db).parent_path());
  return db;
}

}  // namespace queuectl::app
