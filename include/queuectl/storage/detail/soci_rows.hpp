/// @file
/// @brief Internals shared by the SOCI storages: type-tolerant row access, env JSON, errors.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <soci/soci.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "queuectl/error.hpp"
#include "queuectl/job.hpp"
#include "queuectl/json_parse.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/time.hpp"

namespace queuectl::detail {

/// A column as 64-bit integer whatever type the backend described it with.
inline long long row_int(const soci::row& r, std::size_t i) {
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double: return static_cast<long long>(r.get<double>(i));
    case soci::dt_string: return std::stoll(r.get<std::string>(i));
    default: throw error(error_kind::storage, "queuectl.storage.type", "unexpected column type for " + r.get_properties(i).get_name());
  }
}

inline double row_double(const soci::row& r, std::size_t i) {
  if (r.get_properties(i).get_data_type() == soci::dt_double) return r.get<double>(i);
  if (r.get_properties(i).get_data_type() == soci::dt_string) return std::stod(r.get<std::string>(i));
  return static_cast<double>(row_int(r, i));
}

inline std::string row_text(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return {};
  if (r.get_properties(i).get_data_type() == soci::dt_string) return r.get<std::string>(i);
  return std::to_string(row_int(r, i));
}

inline std::optional<long long> row_opt_int(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return std::nullopt;
  return row_int(r, i);
}

inline std::string env_to_json(const std::map<std::string, std::string>& env) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  for (const auto& [k, v] : env) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

inline std::map<std::string, std::string> env_from_json(const std::string& text) {
  std::map<std::string, std::string> out;
  rapidjson::Document d;
  if (!parse_json(d, text).empty() || !d.IsObject()) return out;
  for (auto m = d.MemberBegin(); m != d.MemberEnd(); ++m)
    if (m->value.IsString())
      out.emplace(std::string(m->name.GetString(), m->name.GetStringLength()),
                  std::string(m->value.GetString(), m->value.GetStringLength()));
  return out;
}

/// A list of names as a JSON array of strings: how executor lists are stored (workers
/// table) and bound to the claim statements (`json_each` / `json_array_elements_text`).
inline std::string names_to_json(const std::vector<std::string>& names) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const auto& n : names) w.String(n.c_str(), static_cast<rapidjson::SizeType>(n.size()));
  w.EndArray();
  return std::string(sb.GetString(), sb.GetSize());
}

inline std::vector<std::string> names_from_json(const std::string& text) {
  std::vector<std::string> out;
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsArray()) return out;
  for (const auto& v : d.GetArray())
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  return out;
}

/// Columns of the jobs table in the order job_from_row reads them.
inline constexpr const char* job_columns =
    "id, command, executor, payload, queue, state, attempts, recoveries, max_retries, priority, run_at, timeout, "
    "env, cwd, created_at, updated_at, last_error, exit_code, lease_owner, lease_expires_at, seq";

/// A job from the columns of job_columns, read through `r`: anything with text(i),
/// integer(i), real(i) and opt_integer(i) (a SOCI row, or the SQLite hot path's statement).
template <class Columns>
job job_from_columns(const Columns& r) {
  job j;
  j.id = r.text(0);
  j.command = r.text(1);
  j.executor = r.text(2);
  j.payload = r.text(3);
  j.queue = r.text(4);
  j.state = parse_job_state(r.text(5)).value_or(job_state::pending);
  j.attempts = static_cast<int>(r.integer(6));
  j.recoveries = static_cast<int>(r.integer(7));
  j.max_retries = static_cast<int>(r.integer(8));
  j.priority = static_cast<int>(r.integer(9));
  j.run_at = from_ms(r.integer(10));
  j.timeout = r.real(11);
  j.env = env_from_json(r.text(12));
  j.cwd = r.text(13);
  j.created_at = from_ms(r.integer(14));
  j.updated_at = from_ms(r.integer(15));
  j.last_error = r.text(16);
  if (auto c = r.opt_integer(17)) j.exit_code = static_cast<int>(*c);
  j.lease_owner = r.text(18);
  if (auto l = r.opt_integer(19)) j.lease_expires_at = from_ms(*l);
  j.seq = r.integer(20);
  return j;
}

/// A SOCI row read through the type-tolerant accessors above.
struct soci_columns {
  const soci::row& row;
  std::string text(std::size_t i) const { return row_text(row, i); }
  long long integer(std::size_t i) const { return row_int(row, i); }
  double real(std::size_t i) const { return row_double(row, i); }
  std::optional<long long> opt_integer(std::size_t i) const { return row_opt_int(row, i); }
};

inline job job_from_row(const soci::row& r) { return job_from_columns(soci_columns{r}); }

/// Columns of the workers table in the order worker_from_row reads them.
inline constexpr const char* worker_columns = "id, hostname, pid, slots, started_at, heartbeat_at, executors";

/// A workers row; `to_time` turns the stored milliseconds into a time_point (storages
/// that keep times on another clock's timeline translate here).
template <class ToTime>
worker_info worker_from_row(const soci::row& r, ToTime to_time) {
  worker_info w;
  w.id = row_text(r, 0);
  w.hostname = row_text(r, 1);
  w.pid = row_int(r, 2);
  w.slots = static_cast<int>(row_int(r, 3));
  w.started_at = to_time(row_int(r, 4));
  w.heartbeat_at = to_time(row_int(r, 5));
  if (r.get_indicator(6) != soci::i_null) w.executors = names_from_json(row_text(r, 6));
  return w;
}

/// Columns of the attempts table in the order attempt_from_row reads them.
inline constexpr const char* attempt_columns = "job_id, number, worker, started_at, finished_at, outcome, exit_code, output, error";

inline attempt_record attempt_from_row(const soci::row& r) {
  attempt_record a;
  a.job_id = row_text(r, 0);
  a.number = static_cast<int>(row_int(r, 1));
  a.worker = row_text(r, 2);
  a.started_at = from_ms(row_int(r, 3));
  if (auto f = row_opt_int(r, 4)) a.finished_at = from_ms(*f);
  a.outcome = parse_attempt_outcome(row_text(r, 5)).value_or(attempt_outcome::failed);
  if (auto c = row_opt_int(r, 6)) a.exit_code = static_cast<int>(*c);
  a.output = row_text(r, 7);
  a.error = row_text(r, 8);
  return a;
}

/// Runs `f`, turning SOCI's exceptions into queuectl::error at the storage boundary.
template <class F>
decltype(auto) wrap_soci(const char* backend, F&& f) {
  try {
    return f();
  } catch (const queuectl::error&) {
    throw;
  } catch (const soci::soci_error& e) {
    std::string what = e.get_error_message();
    if (what.empty()) what = e.what();
    for (char& c : what)
      if (c == '\n') c = ' ';
    // A damaged file is not an outage to wait out: its own id, so a host can give up.
    const bool corrupt = what.find("disk image is malformed") != std::string::npos ||
                         what.find("file is not a database") != std::string::npos;
    throw error(error_kind::storage, corrupt ? "queuectl.storage.corrupt" : std::string("queuectl.storage.") + backend, what);
  }
}

/// Runs a query once (no server-side prepare on PostgreSQL) and calls `each` for every row.
template <class Bind, class Each>
inline void select_rows(soci::session& sql, const std::string& text, Bind&& bind, Each&& each) {
  soci::statement st(sql);
  st.alloc();
  st.prepare(text, soci::details::st_one_time_query);
  bind(st);
  soci::row r;
  st.exchange(soci::into(r));
  st.define_and_bind();
  if (st.execute(true)) {
    do each(static_cast<const soci::row&>(r));
    while (st.fetch());
  }
}

}  // namespace queuectl::detail
