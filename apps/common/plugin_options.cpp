#include "plugin_options.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "queuectl/error.hpp"

namespace queuectl::app {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
bool valid_name(std::string_view s, bool dots_ok) {
  if (s.empty()) return false;
  for (char c : s)
    if (!name_char(c) && !(dots_ok && c == '.')) return false;
  return true;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
/// Printable form of user text in an error line (control characters escaped).
std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}
[[noreturn]] void bad(const std::string& why) {
  throw error(error_kind::invalid_input, "queuectl.plugin.bad_option_syntax", why);
}

}  // namespace

void add_plugin_opt(plugin_option_map& out, const std::string& nkv) {
  const auto dot = nkv.find('.');
  const auto eq = nkv.find('=');
  if (dot == std::string::npos || eq == std::string::npos || dot > eq)
    bad("--plugin-opt '" + shown(nkv) + "': expected NAME.KEY=VALUE (e.g. prometheus.bind=127.0.0.1:9464)");
  const std::string_view name = std::string_view(nkv).substr(0, dot);
  const std::string_view key = std::string_view(nkv).substr(dot + 1, eq - dot - 1);
  if (!valid_name(name, false)) bad("--plugin-opt '" + shown(nkv) + "': bad plugin name '" + shown(name) + "'");
  if (!valid_name(key, true)) bad("--plugin-opt '" + shown(nkv) + "': bad option name '" + shown(key) + "'");
  out[std::string(name)][std::string(key)] = nkv.substr(eq + 1);
}

plugin_option_map read_plugin_config(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) bad("--plugin-config " + shown(path) + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) bad("--plugin-config " + shown(path) + ": not a regular file");
  if (st.st_size > (1 << 20)) bad("--plugin-config " + shown(path) + ": larger than 1 MiB");
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) bad("--plugin-config " + shown(path) + ": " + std::strerror(errno));
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || text.size() > (1u << 20)) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  plugin_option_map out;
  std::string section;
  std::size_t line_no = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view line = trim(std::string_view(text).substr(start, end - start));
    start = end + 1;
    ++line_no;
    const std::string where = shown(path) + ":" + std::to_string(line_no) + ": ";
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') bad(where + "expected [NAME]");
      const std::string_view name = trim(line.substr(1, line.size() - 2));
      if (!valid_name(name, false)) bad(where + "bad plugin name '" + shown(name) + "'");
      section = name;
      out[section];
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) bad(where + "expected KEY = VALUE or [NAME]");
    if (section.empty()) bad(where + "KEY = VALUE before any [NAME] section");
    const std::string_view key = trim(line.substr(0, eq));
    if (!valid_name(key, true)) bad(where + "bad option name '" + shown(key) + "'");
    out[section][std::string(key)] = std::string(trim(line.substr(eq + 1)));
  }
  return out;
}

}  // namespace queuectl::app
