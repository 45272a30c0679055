/// @file
/// @brief The SQLite storage's file handling: a private file created before SQLite opens
/// it, only regular files accepted, connection strings and URIs quoted.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "queuectl/error.hpp"

namespace queuectl::detail {

/// SOCI's messages for a file that is not a (usable) database.
inline bool sqlite_is_not_a_database(const std::string& what) {
  return what.find("not a database") != std::string::npos || what.find("malformed") != std::string::npos ||
         what.find("corrupt") != std::string::npos;
}

inline error sqlite_not_a_file(const std::string& path) {
  return error(error_kind::invalid_input, "queuectl.storage.not_a_file",
               path + " is not a regular file (a directory, device, FIFO or socket)");
}

/// Throws unless `path` exists and is a regular file.
inline void sqlite_check_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw error(error_kind::not_found, "queuectl.storage.open", "cannot open " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw sqlite_not_a_file(path);
}

/// Creates the file 0600 (and its directory 0700) before SQLite does, so the queue —
/// commands, environments, output — is private to its owner.
inline void sqlite_create_private_file(const std::string& path) {
  const std::filesystem::path p(path);
  if (p.has_parent_path() && !std::filesystem::exists(p.parent_path())) {
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    if (!ec) ::chmod(p.parent_path().c_str(), 0700);
  }
  // Only a file that does not exist yet is created (0600) here. An existing one must not
  // be opened outside SQLite: closing any descriptor of a file drops every POSIX lock this
  // process holds on it, including those of other connections in the process, and
  // another process could then delete the WAL under them.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return;
  }
  if (errno != EEXIST)
    throw error(error_kind::storage, "queuectl.storage.open", "cannot open " + path + ": " + std::strerror(errno));
  // stat(), not open(): a device or FIFO would get SQLite's -journal/-wal files beside it
  // (/dev/null-journal) or block the open; only a regular file is a database.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) throw sqlite_not_a_file(path);
}

/// A value inside SOCI's connection string: double-quoted, `"` and `\` escaped.
inline std::string sqlite_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

/// The URI that opens `path` as an immutable snapshot (no -shm needed beside it).
inline std::string sqlite_immutable_uri(const std::string& path) {
  std::string uri = "file:";
  for (unsigned char c : std::filesystem::absolute(path).string()) {
    if (std::isalnum(c) || c == '/' || c == '.' || c == '_' || c == '-') {
      uri += static_cast<char>(c);
    } else {
      char esc[4];
      std::snprintf(esc, sizeof esc, "%%%02X", c);
      uri += esc;
    }
  }
  return uri + "?immutable=1";
}

}  // namespace queuectl::detail
