/// @file
/// @brief The wire format between a host and its plugin helper processes (docs/plugins.md,
/// "Isolation"): frames of a 4-byte big-endian length then that many bytes of JSON, over a
/// socketpair; codecs for what crosses it (job, job_spec, attempt_result, settings).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "queuectl/job.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail::helper_wire {

/// Largest frame either side accepts (an attempt's output is capped far below this).
inline constexpr std::uint32_t max_frame_bytes = 64u << 20;

/// Writes one frame; false if the peer is gone. MSG_NOSIGNAL: a dead peer is an error
/// return, never a SIGPIPE.
inline bool write_frame(int fd, std::string_view body) {
  if (body.size() > max_frame_bytes) return false;
  const auto n = static_cast<std::uint32_t>(body.size());
  std::string buf;
  buf.reserve(4 + body.size());
  buf.push_back(static_cast<char>(n >> 24));
  buf.push_back(static_cast<char>(n >> 16));
  buf.push_back(static_cast<char>(n >> 8));
  buf.push_back(static_cast<char>(n));
  buf.append(body);
  std::size_t off = 0;
  while (off < buf.size()) {
    const ssize_t w = ::send(fd, buf.data() + off, buf.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

inline bool read_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

/// Reads one frame; nullopt when the peer closed (or died) or sent garbage.
inline std::optional<std::string> read_frame(int fd) {
  unsigned char h[4];
  if (!read_exact(fd, reinterpret_cast<char*>(h), 4)) return std::nullopt;
  const std::uint32_t n = (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) | (std::uint32_t{h[2]} << 8) | h[3];
  if (n > max_frame_bytes) return std::nullopt;
  std::string body(n, '\0');
  if (!read_exact(fd, body.data(), n)) return std::nullopt;
  return body;
}

/// Waits until `fd` is readable (or closed) for at most `ms`; false on timeout.
inline bool wait_readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  while (true) {
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

// ---- JSON --------------------------------------------------------------------------------

using writer = rapidjson::Writer<rapidjson::StringBuffer>;
using value = rapidjson::Value;

inline void put(writer& w, const char* k, std::string_view s) {
  w.Key(k);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void put_map(writer& w, const char* k, const std::map<std::string, std::string>& m) {
  w.Key(k);
  w.StartObject();
  for (const auto& [key, v] : m) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
}

inline std::string str(const value& o, const char* k) {
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                     : std::string();
}
inline std::int64_t num(const value& o, const char* k) {
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}
inline double dbl(const value& o, const char* k) {
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : 0.0;
}
inline bool flag(const value& o, const char* k) {
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}
inline std::optional<std::int64_t> opt_num(const value& o, const char* k) {
  auto it = o.FindMember(k);
  if (it == o.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}
inline std::map<std::string, std::string> get_map(const value& o, const char* k) {
  std::map<std::string, std::string> out;
  auto it = o.FindMember(k);
  if (it == o.MemberEnd() || !it->value.IsObject()) return out;
  for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m)
    if (m->value.IsString())
      out.emplace(std::string(m->name.GetString(), m->name.GetStringLength()),
                  std::string(m->value.GetString(), m->value.GetStringLength()));
  return out;
}

/// The fields of a job an executor sees (payload travels as its compact JSON text).
inline void put_job(writer& w, const char* k, const job& j) {
  w.Key(k);
  w.StartObject();
  put(w, "id", j.id);
  put(w, "command", j.command);
  put(w, "executor", j.executor);
  put(w, "payload", j.payload);
  put(w, "queue", j.queue);
  w.Key("attempts"), w.Int(j.attempts);
  w.Key("recoveries"), w.Int(j.recoveries);
  w.Key("max_retries"), w.Int(j.max_retries);
  w.Key("priority"), w.Int(j.priority);
  w.Key("run_at"), w.Int64(to_ms(j.run_at));
  w.Key("timeout"), w.Double(j.timeout);
  put_map(w, "env", j.env);
  put(w, "cwd", j.cwd);
  w.Key("created_at"), w.Int64(to_ms(j.created_at));
  put(w, "last_error", j.last_error);
  w.EndObject();
}
inline job get_job(const value& o) {
  job j;
  j.id = str(o, "id");
  j.command = str(o, "command");
  j.executor = str(o, "executor");
  j.payload = str(o, "payload");
  j.queue = str(o, "queue");
  j.state = job_state::processing;
  j.attempts = static_cast<int>(num(o, "attempts"));
  j.recoveries = static_cast<int>(num(o, "recoveries"));
  j.max_retries = static_cast<int>(num(o, "max_retries"));
  j.priority = static_cast<int>(num(o, "priority"));
  j.run_at = from_ms(num(o, "run_at"));
  j.timeout = dbl(o, "timeout");
  j.env = get_map(o, "env");
  j.cwd = str(o, "cwd");
  j.created_at = from_ms(num(o, "created_at"));
  j.last_error = str(o, "last_error");
  return j;
}

inline void put_spec(writer& w, const char* k, const job_spec& s) {
  w.Key(k);
  w.StartObject();
  put(w, "id", s.id);
  put(w, "command", s.command);
  put(w, "executor", s.executor);
  put(w, "payload", s.payload);
  put(w, "queue", s.queue);
  w.Key("priority"), w.Int(s.priority);
  if (s.max_retries) w.Key("max_retries"), w.Int(*s.max_retries);
  if (s.run_at) w.Key("run_at"), w.Int64(to_ms(*s.run_at));
  if (s.timeout) w.Key("timeout"), w.Double(*s.timeout);
  put_map(w, "env", s.env);
  put(w, "cwd", s.cwd);
  w.EndObject();
}
inline job_spec get_spec(const value& o) {
  job_spec s;
  s.id = str(o, "id");
  s.command = str(o, "command");
  s.executor = str(o, "executor");
  s.payload = str(o, "payload");
  s.queue = str(o, "queue");
  s.priority = static_cast<int>(num(o, "priority"));
  if (auto v = opt_num(o, "max_retries")) s.max_retries = static_cast<int>(*v);
  if (auto v = opt_num(o, "run_at")) s.run_at = from_ms(*v);
  if (o.HasMember("timeout")) s.timeout = dbl(o, "timeout");
  s.env = get_map(o, "env");
  s.cwd = str(o, "cwd");
  return s;
}

inline void put_result(writer& w, const char* k, const attempt_result& r) {
  w.Key(k);
  w.StartObject();
  w.Key("success"), w.Bool(r.success);
  w.Key("permanent"), w.Bool(r.permanent);
  w.Key("timed_out"), w.Bool(r.timed_out);
  if (r.exit_code) w.Key("exit_code"), w.Int(*r.exit_code);
  if (r.signal) w.Key("signal"), w.Int(*r.signal);
  put(w, "output", r.output);
  put(w, "error", r.error);
  if (r.retry_after) w.Key("retry_after_ms"), w.Int64(r.retry_after->count());
  w.EndObject();
}
inline attempt_result get_result(const value& o) {
  attempt_result r;
  r.success = flag(o, "success");
  r.permanent = flag(o, "permanent");
  r.timed_out = flag(o, "timed_out");
  if (auto v = opt_num(o, "exit_code")) r.exit_code = static_cast<int>(*v);
  if (auto v = opt_num(o, "signal")) r.signal = static_cast<int>(*v);
  r.output = str(o, "output");
  r.error = str(o, "error");
  if (auto v = opt_num(o, "retry_after_ms")) r.retry_after = milliseconds(*v);
  return r;
}

/// Builds one frame body: `{"op": op, ...fields written by f}`.
template <class F>
std::string message(std::string_view op, F&& f) {
  rapidjson::StringBuffer sb;
  writer w(sb);
  w.StartObject();
  put(w, "op", op);
  f(w);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}
inline std::string message(std::string_view op) {
  return message(op, [](writer&) {});
}

/// Parses a frame body (iteratively: depth can never exhaust the stack); nullopt if it
/// is not a JSON object with a string `op`.
inline std::optional<rapidjson::Document> parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("op") || !d["op"].IsString()) return std::nullopt;
  return d;
}

}  // namespace queuectl::detail::helper_wire
