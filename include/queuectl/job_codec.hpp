/// @file
/// @brief JSON codec for jobs (RapidJSON): parse and validate job specs, write jobs.
///
/// Every rejection throws queuectl::error (kind invalid_input) with a stable id
/// `queuectl.spec.<field or problem>` and a one-line message naming the field. The rules
/// of each field and codec_limits are in detail/spec_fields.hpp, the checks of single JSON
/// values in detail/json_value_checks.hpp; both come with this header.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/bounds.hpp"
#include "queuectl/detail/json_value_checks.hpp"
#include "queuectl/detail/spec_fields.hpp"
#include "queuectl/error.hpp"
#include "queuectl/job.hpp"
#include "queuectl/json_parse.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl {

/// @brief Fields that replace a spec's own (`enqueue --priority 5 --file F`), validated by
/// the same rules as the JSON fields: `set("priority", "5")` takes the flag's text as a JSON
/// value, so `--timeout 1e10` is refused exactly like `"timeout": 1e10`.
class spec_overrides {
 public:
  /// Adds `field` = the JSON number (or other JSON literal) written in `text`; throws
  /// invalid_input naming `flag` when it is not one or is out of bounds.
  void set_json(const std::string& field, std::string_view text, const std::string& flag) {
    rapidjson::Document d(&doc_.GetAllocator());
    const std::string why = parse_json(d, text);
    if (!why.empty() || d.IsString() || d.IsObject() || d.IsArray())
      throw error(error_kind::invalid_input, "queuectl.spec." + field, flag + ": '" + std::string(text) + "' is not a number");
    add(field, d, flag);
  }
  /// Adds `field` = the string `text`.
  void set_string(const std::string& field, std::string_view text, const std::string& flag) {
    rapidjson::Value v(text.data(), static_cast<rapidjson::SizeType>(text.size()), doc_.GetAllocator());
    add(field, v, flag);
  }
  /// Applies every override to `s`, then checks the cross-field rules again.
  void apply(job_spec& s, const codec_limits& lim = {}) const {
    for (auto m = doc_.MemberBegin(); m != doc_.MemberEnd(); ++m)
      detail::apply_spec_field(s, std::string_view(m->name.GetString(), m->name.GetStringLength()), m->value, lim);
    detail::check_spec_complete(s);
  }
  bool empty() const { return doc_.MemberCount() == 0; }

 private:
  void add(const std::string& field, rapidjson::Value& v, const std::string& flag) {
    job_spec scratch;
    try {
      detail::apply_spec_field(scratch, field, v, {});  // checked now, so the error names the flag
    } catch (const error& e) {
      std::string msg = e.message();
      if (msg.rfind(field + ": ", 0) == 0) msg = flag + ": " + msg.substr(field.size() + 2);
      throw error(e.kind(), e.id(), msg);
    }
    rapidjson::Value name(field.c_str(), static_cast<rapidjson::SizeType>(field.size()), doc_.GetAllocator());
    doc_.RemoveMember(field.c_str());
    doc_.AddMember(name, v, doc_.GetAllocator());
  }
  rapidjson::Document doc_{rapidjson::kObjectType};
};

/// @brief Parses and validates one job spec (then applies `overrides`, if any). Throws
/// queuectl::error (invalid_input).
inline job_spec parse_job_spec(std::string_view json, const codec_limits& limits = {},
                               const spec_overrides* overrides = nullptr) {
  if (json.size() > limits.max_spec_bytes)
    throw error(error_kind::invalid_input, "queuectl.spec.too_large",
                "spec: " + std::to_string(json.size()) + " bytes exceeds the limit of " + std::to_string(limits.max_spec_bytes));
  // Trailing text after the object is an error too (parse_json has no kParseStopWhenDoneFlag).
  rapidjson::Document doc;
  if (const std::string why = parse_json(doc, json); !why.empty())
    throw error(error_kind::invalid_input,
                is_encoding_reason(why) ? "queuectl.spec.encoding"
                : is_depth_reason(why)  ? "queuectl.spec.too_deep"
                                        : "queuectl.spec.parse_error",
                why);
  job_spec s = detail::spec_from_object(doc, limits);
  if (overrides) overrides->apply(s, limits);
  return s;
}

/// @brief Parses JSON Lines (blank lines skipped): all specs or, on any error, none —
/// the error names the line (`line 3: max_retries: …`).
inline std::vector<job_spec> parse_job_specs_jsonl(std::string_view text, const codec_limits& limits = {},
                                                   const spec_overrides* overrides = nullptr) {
  std::vector<job_spec> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    try {
      out.push_back(parse_job_spec(line, limits, overrides));
    } catch (const error& e) {
      throw error(e.kind(), e.id(), "line " + std::to_string(line_no) + ": " + e.message());
    }
  }
  return out;
}

// ---- updating ---------------------------------------------------------------------------

/// The fields `queuectl update` and `PATCH /api/jobs/{id}` may change.
inline constexpr const char* updatable_fields =
    "command, executor, payload, queue, priority, max_retries, run_at, timeout, env, cwd, state";

/// @brief Parses the members of an update (`{"command": …, "state": "pending"}`) into a
/// job_patch, each field checked by exactly the rules of a job spec (apply_spec_field).
/// `id` names the job: it is stored in `*id` when given (and refused when `id` is null).
/// Unknown or repeated fields are refused naming the field. Whether the move to `state`
/// is allowed depends on the job: basic_queue::update decides that.
inline job_patch patch_from_object(const detail::json_value& o, std::optional<std::string>* id,
                                   const codec_limits& lim = {}) {
  if (!o.IsObject())
    throw error(error_kind::invalid_input, "queuectl.spec.not_object",
                "an update must be a JSON object, got " + detail::describe(o));
  job_patch p;
  std::set<std::string_view> seen;
  for (auto m = o.MemberBegin(); m != o.MemberEnd(); ++m) {
    const std::string_view key(m->name.GetString(), m->name.GetStringLength());
    if (!seen.insert(key).second)
      throw error(error_kind::invalid_input, "queuectl.spec.duplicate_field", std::string(key) + ": given twice");
    job_spec s;  // scratch: the spec rules validate and convert the value
    if (key == "id") {
      if (!id) throw invalid_field("id", "cannot be changed (the job is named by the URL)");
      detail::apply_spec_field(s, key, m->value, lim);
      *id = s.id;
    } else if (key == "state") {
      const std::string v = detail::want_string(m->value, "state");
      const auto st = parse_job_state(v);
      if (!st) throw invalid_field("state", "unknown state '" + v + "' (a job can be moved to pending or canceled)");
      p.state = *st;
    } else if (key == "command" || key == "executor" || key == "payload" || key == "queue" || key == "priority" ||
               key == "max_retries" || key == "run_at" || key == "timeout" || key == "env" || key == "cwd") {
      detail::apply_spec_field(s, key, m->value, lim);
      if (key == "command") p.command = std::move(s.command);
      else if (key == "executor") p.executor = std::move(s.executor);
      else if (key == "payload") p.payload = std::move(s.payload);
      else if (key == "queue") p.queue = std::move(s.queue);
      else if (key == "priority") p.priority = s.priority;
      else if (key == "max_retries") p.max_retries = s.max_retries;
      else if (key == "run_at") p.run_at = s.run_at;
      else if (key == "timeout") p.timeout = s.timeout;
      else if (key == "env") p.env = std::move(s.env);
      else p.cwd = std::move(s.cwd);
    } else {
      throw error(error_kind::invalid_input, "queuectl.spec.unknown_field",
                  std::string(key) + ": unknown field (an update may set: " + updatable_fields + ")");
    }
  }
  return p;
}

/// @brief Parses one update from JSON text (`queuectl update '<json>'`); see patch_from_object.
inline job_patch parse_job_patch(std::string_view json, std::optional<std::string>* id, const codec_limits& limits = {}) {
  if (json.size() > limits.max_spec_bytes)
    throw error(error_kind::invalid_input, "queuectl.spec.too_large",
                "update: " + std::to_string(json.size()) + " bytes exceeds the limit of " + std::to_string(limits.max_spec_bytes));
  rapidjson::Document doc;
  if (const std::string why = parse_json(doc, json); !why.empty())
    throw error(error_kind::invalid_input,
                is_encoding_reason(why) ? "queuectl.spec.encoding"
                : is_depth_reason(why)  ? "queuectl.spec.too_deep"
                                        : "queuectl.spec.parse_error",
                why);
  return patch_from_object(doc, id, limits);
}

// ---- writing --------------------------------------------------------------------------

/// Writes a time as RFC 3339 UTC (`…Z`).
template <class Writer>
void write_time(Writer& w, time_point t) {
  const std::string s = to_rfc3339(t);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
}

template <class Writer>
void write_string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

/// @brief Writes one job as a JSON object (payload and env as objects, times RFC 3339).
template <class Writer>
void write_job(Writer& w, const job& j) {
  w.StartObject();
  w.Key("id"); write_string(w, j.id);
  w.Key("command"); write_string(w, j.command);
  w.Key("executor"); write_string(w, j.executor);
  w.Key("payload");
  {
    rapidjson::Document p;
    if (!parse_json(p, j.payload).empty() || !p.IsObject()) w.StartObject(), w.EndObject();
    else p.Accept(w);
  }
  w.Key("queue"); write_string(w, j.queue);
  w.Key("state"); write_string(w, to_string(j.state));
  w.Key("attempts"); w.Int(j.attempts);
  w.Key("max_retries"); w.Int(j.max_retries);
  w.Key("recoveries"); w.Int(j.recoveries);
  w.Key("priority"); w.Int(j.priority);
  w.Key("run_at"); write_time(w, j.run_at);
  w.Key("timeout");
  if (j.timeout == std::floor(j.timeout) && j.timeout < 1e15) w.Int64(static_cast<std::int64_t>(j.timeout));
  else w.Double(j.timeout);
  w.Key("env");
  w.StartObject();
  for (const auto& [k, v] : j.env) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    write_string(w, v);
  }
  w.EndObject();
  w.Key("cwd"); write_string(w, j.cwd);
  w.Key("created_at"); write_time(w, j.created_at);
  w.Key("updated_at"); write_time(w, j.updated_at);
  w.Key("last_error");
  if (j.last_error.empty()) w.Null(); else write_string(w, j.last_error);
  w.Key("exit_code");
  if (j.exit_code) w.Int(*j.exit_code); else w.Null();
  w.Key("lease_owner");
  if (j.lease_owner.empty()) w.Null(); else write_string(w, j.lease_owner);
  w.Key("lease_expires_at");
  if (j.lease_expires_at) write_time(w, *j.lease_expires_at); else w.Null();
  w.EndObject();
}

/// @brief Writes one attempt record as a JSON object.
template <class Writer>
void write_attempt_record(Writer& w, const attempt_record& a) {
  w.StartObject();
  w.Key("number"); w.Int(a.number);
  w.Key("worker"); write_string(w, a.worker);
  w.Key("started_at"); write_time(w, a.started_at);
  w.Key("finished_at");
  if (a.finished_at) write_time(w, *a.finished_at); else w.Null();
  w.Key("duration_ms");
  if (a.finished_at) w.Int64((*a.finished_at - a.started_at).count()); else w.Null();
  w.Key("outcome"); write_string(w, to_string(a.outcome));
  w.Key("exit_code");
  if (a.exit_code) w.Int(*a.exit_code); else w.Null();
  w.Key("error");
  if (a.error.empty()) w.Null(); else write_string(w, a.error);
  w.Key("output"); write_string(w, a.output);
  w.EndObject();
}

/// Serializes with a pretty (2-space indent, `"key": value`) or a compact writer.
template <class F>
std::string json_text(bool pretty, F&& write) {
  rapidjson::StringBuffer sb;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.SetIndent(' ', 2);
    write(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    write(w);
  }
  return std::string(sb.GetString(), sb.GetSize());
}

/// @brief One job as JSON text.
inline std::string to_json(const job& j, bool pretty = false) {
  return json_text(pretty, [&](auto& w) { write_job(w, j); });
}
/// @brief A JSON array of jobs (`[]` when empty).
inline std::string to_json(const std::vector<job>& jobs, bool pretty = false) {
  return json_text(pretty, [&](auto& w) {
    w.StartArray();
    for (const auto& j : jobs) write_job(w, j);
    w.EndArray();
  });
}
/// @brief One attempt record as JSON text.
inline std::string to_json(const attempt_record& a, bool pretty = false) {
  return json_text(pretty, [&](auto& w) { write_attempt_record(w, a); });
}

}  // namespace queuectl
