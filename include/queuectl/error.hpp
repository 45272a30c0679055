/// @file
/// @brief The one exception type of queuectl, with a stable id per kind of failure.
#pragma once

#include <stdexcept>
#include <string>

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

}  // namespace queuectl
