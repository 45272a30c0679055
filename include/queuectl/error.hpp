/// @file
/// @brief The one exception type of queuectl, with a stable id per kind of failure.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace queuectl {

/// @brief What kind of failure an error is; the CLI maps it to an exit code.
enum class error_kind {
  invalid_input,  ///< bad job spec, bad config value, bad argument (exit 2)
  not_found,      ///< no such job / key (exit 3)
  conflict,       ///< duplicate id, wrong state for the operation (exit 2)
  storage,        ///< the database failed (exit 1)
  runtime,        ///< anything else at run time (exit 1)
};

/// @brief Exception thrown by every queuectl component.
///
/// `id()` is stable across releases (e.g. `queuectl.spec.max_retries`), so scripts and
/// tests may match on it; `what()` is `[id] message`, one line, for people.
class error : public std::runtime_error {
 public:
  error(error_kind kind, std::string id, const std::string& message)
      : std::runtime_error("[" + id + "] " + message), kind_(kind), id_(std::move(id)), message_(message) {}

  error_kind kind() const noexcept { return kind_; }
  const std::string& id() const noexcept { return id_; }
  /// The message without the id prefix.
  const std::string& message() const noexcept { return message_; }

 private:
  error_kind kind_;
  std::string id_;
  std::string message_;
};

/// @brief Shorthand for a rejected input naming the offending field.
inline error invalid_field(const std::string& field, const std::string& reason) {
  return error(error_kind::invalid_input, "queuectl.spec." + field, field + ": " + reason);
}

/// @brief `text` made safe for one line on a terminal: control characters (C0, DEL, C1),
/// line breaks and bytes that are not UTF-8 become `\xNN` (`\u0080`…`\u009f` for C1), so an
/// id or value quoted in an error can neither break the line nor send escape sequences.
/// The one escaping rule of every error and log line (CLI and host).
inline std::string printable_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buf[8];
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      if (c == '\\') out += "\\\\";
      else std::snprintf(buf, sizeof buf, "\\x%02x", c), out += buf;
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence passes (C1 controls escaped); anything else byte by byte.
    const std::size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogates
    }
    if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (!ok) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
    } else if (len == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(text[i + 1]));
      out += buf;
      i += 2;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace queuectl
