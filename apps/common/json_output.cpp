#include "json_output.hpp"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "queuectl/json_parse.hpp"

namespace queuectl::app {

namespace {

using pretty_writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

template <class F>
std::string pretty(F&& write) {
  rapidjson::StringBuffer buf;
  pretty_writer w(buf);
  write(w);
  return std::string(buf.GetString(), buf.GetSize());
}

bool is_json_number(const std::string& v) {
  rapidjson::Document d;
  return parse_json(d, v).empty() && d.IsNumber();
}

}  // namespace

std::string jobs_json(const std::vector<job>& jobs) {
  return pretty([&](pretty_writer& w) {
    w.StartArray();
    for (const auto& j : jobs) write_job(w, j);
    w.EndArray();
  });
}

std::string job_json(const job& j, const std::vector<attempt_record>& attempts) {
  // The codec writes the job object; the attempts go in as one more member.
  auto compact = [](auto&& write) {
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    write(w);
    return std::string(b.GetString(), b.GetSize());
  };
  const std::string job_text = compact([&](auto& w) { write_job(w, j); });
  const std::string attempts_text = compact([&](auto& w) {
    w.StartArray();
    for (const auto& a : attempts) write_attempt(w, a);
    w.EndArray();
  });
  rapidjson::Document d;
  parse_json<rapidjson::kParseFullPrecisionFlag>(d, job_text);  // written just above: well-formed
  rapidjson::Document a(&d.GetAllocator());
  parse_json<rapidjson::kParseFullPrecisionFlag>(a, attempts_text);
  d.AddMember("history", rapidjson::Value(a, d.GetAllocator()), d.GetAllocator());
  return pretty([&](pretty_writer& w) { d.Accept(w); });
}

std::string attempts_json(const std::vector<attempt_record>& attempts) {
  return pretty([&](pretty_writer& w) {
    w.StartArray();
    for (const auto& a : attempts) write_attempt(w, a);
    w.EndArray();
  });
}

std::string status_json(const status_snapshot& s) {
  return pretty([&](pretty_writer& w) { write_status(w, s); });
}

std::string metrics_json(const metrics_snapshot& m) {
  return pretty([&](pretty_writer& w) { write_metrics(w, m); });
}

std::string config_json(const std::vector<config_entry>& entries) {
  return pretty([&](pretty_writer& w) {
    w.StartObject();
    for (const auto& e : entries) {
      write_string(w, e.key);
      if (is_json_number(e.value))
        w.RawValue(e.value.c_str(), e.value.size(), rapidjson::kNumberType);
      else
        write_string(w, e.value);
    }
    w.EndObject();
  });
}

}  // namespace queuectl::app
