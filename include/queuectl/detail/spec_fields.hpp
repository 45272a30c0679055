/// @file
/// @brief The rules of each job-spec field (docs/cli.md, "Job specs") and the limits they
/// apply: one place that both the JSON codec and `enqueue`'s flags validate through.
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "queuectl/bounds.hpp"
#include "queuectl/detail/json_value_checks.hpp"
#include "queuectl/error.hpp"
#include "queuectl/job.hpp"
#include "queuectl/time.hpp"

namespace queuectl {

/// @brief Size limits applied while parsing.
struct codec_limits {
  std::size_t max_spec_bytes = (1u << 20) + (64u << 10);  ///< one whole spec
  std::size_t max_payload_bytes = 1u << 20;               ///< the payload object, compact
  std::size_t max_command_bytes = 256u << 10;
  int max_retries_limit = 1000;
};

namespace detail {

inline bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

/// Ids end up in URL paths (`/api/jobs/ID`), file names and terminals: a path segment a
/// URL parser rewrites (`.`, `..`) would make the job unreachable from the dashboard.
inline void check_id(const std::string& id) {
  if (id.empty() || id.size() > 128) throw invalid_field("id", "must be 1 to 128 characters");
  for (char c : id)
    if (!id_char(c)) throw invalid_field("id", "may contain only letters, digits and . _ : -");
  if (id.find_first_not_of('.') == std::string::npos)
    throw invalid_field("id", "must not be only dots ('.' and '..' are path segments)");
}

inline bool env_name_ok(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

/// Validates one field and stores it in `s` (the rules of docs/cli.md "Job specs");
/// shared by the JSON codec and `enqueue`'s flags, which override fields.
inline void apply_spec_field(job_spec& s, std::string_view key, const json_value& v, const codec_limits& lim) {
  if (key == "id") {
    s.id = want_string(v, "id");
    check_id(s.id);
  } else if (key == "command") {
    s.command = want_string(v, "command");
    if (s.command.size() > lim.max_command_bytes)
      throw error(error_kind::invalid_input, "queuectl.spec.too_large", "command: longer than " + std::to_string(lim.max_command_bytes) + " bytes");
    if (s.command.find('\0') != std::string::npos) throw invalid_field("command", "must not contain NUL bytes");
  } else if (key == "executor") {
    s.executor = want_string(v, "executor");
    bool ok = !s.executor.empty() && s.executor.size() <= 64 && s.executor[0] >= 'a' && s.executor[0] <= 'z';
    for (char c : s.executor) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    if (!ok) throw invalid_field("executor", "must be a plugin name: a lowercase letter, then up to 63 of a-z 0-9 _ -");
  } else if (key == "payload") {
    if (!v.IsObject()) throw invalid_field("payload", "must be a JSON object, got " + describe(v));
    s.payload = compact(v);
    if (s.payload.size() > lim.max_payload_bytes)
      throw error(error_kind::invalid_input, "queuectl.spec.too_large",
                  "payload: " + std::to_string(s.payload.size()) + " bytes exceeds the limit of " + std::to_string(lim.max_payload_bytes));
  } else if (key == "queue") {
    s.queue = want_string(v, "queue");
    bool ok = !s.queue.empty() && s.queue.size() <= 64 && s.queue.find_first_not_of('.') != std::string::npos;
    for (char c : s.queue) ok = ok && id_char(c) && c != ':';
    if (!ok) throw invalid_field("queue", "must be 1 to 64 of letters, digits and . _ - (not only dots)");
  } else if (key == "priority") {
    s.priority = static_cast<int>(want_bounded(v, "priority", bounds::priority));
  } else if (key == "max_retries") {
    const number_bound b{"max_retries", 0, static_cast<double>(std::min(lim.max_retries_limit, 1000)), true, false, ""};
    s.max_retries = static_cast<int>(want_bounded(v, "max_retries", b));
  } else if (key == "run_at") {
    if (v.IsString()) {
      auto t = parse_rfc3339(std::string_view(v.GetString(), v.GetStringLength()));
      if (!t || to_ms(*t) > static_cast<std::int64_t>(bounds::run_at.max * 1000))
        throw invalid_field("run_at", "'" + std::string(v.GetString(), v.GetStringLength()) +
                                          "' is not an RFC 3339 time like 2026-01-31T12:00:00Z before the year 3000");
      s.run_at = *t;
    } else if (v.IsNumber()) {
      s.run_at = from_ms(saturating_ms(want_bounded(v, "run_at", bounds::run_at)).count());
    } else {
      throw invalid_field("run_at", "must be an RFC 3339 string or epoch seconds, got " + describe(v));
    }
  } else if (key == "timeout") {
    s.timeout = want_bounded(v, "timeout", bounds::timeout);
  } else if (key == "env") {
    if (!v.IsObject()) throw invalid_field("env", "must be an object of strings, got " + describe(v));
    s.env.clear();
    for (auto e = v.MemberBegin(); e != v.MemberEnd(); ++e) {
      const std::string name(e->name.GetString(), e->name.GetStringLength());
      if (!env_name_ok(name)) throw invalid_field("env", "'" + name + "' is not a valid variable name");
      if (!e->value.IsString()) throw invalid_field("env", name + " must be a string, got " + describe(e->value));
      std::string val(e->value.GetString(), e->value.GetStringLength());
      if (val.find('\0') != std::string::npos) throw invalid_field("env", name + " must not contain NUL bytes");
      s.env[name] = std::move(val);
    }
  } else if (key == "cwd") {
    s.cwd = want_string(v, "cwd");
    if (s.cwd.find('\0') != std::string::npos) throw invalid_field("cwd", "must not contain NUL bytes");
  } else {
    throw error(error_kind::invalid_input, "queuectl.spec.unknown_field",
                std::string(key) + ": unknown field (known: id, command, executor, payload, queue, priority, "
                                   "max_retries, run_at, timeout, env, cwd)");
  }
}

/// Rules that span fields, checked once every field is known.
inline void check_spec_complete(const job_spec& s) {
  if (s.executor == "shell" && s.command.empty())
    throw invalid_field("command", "required (a non-empty shell command) for the shell executor");
}

inline job_spec spec_from_object(const json_value& o, const codec_limits& lim) {
  if (!o.IsObject()) throw error(error_kind::invalid_input, "queuectl.spec.not_object", "a job spec must be a JSON object, got " + describe(o));
  job_spec s;
  std::set<std::string_view> seen;
  for (auto m = o.MemberBegin(); m != o.MemberEnd(); ++m) {
    const std::string_view key(m->name.GetString(), m->name.GetStringLength());
    if (!seen.insert(key).second)
      throw error(error_kind::invalid_input, "queuectl.spec.duplicate_field", std::string(key) + ": given twice");
    apply_spec_field(s, key, m->value, lim);
  }
  check_spec_complete(s);
  return s;
}

}  // namespace detail

}  // namespace queuectl
