/// @file
/// @brief Checks of single JSON values for the job codec: the expected type or range,
/// else an invalid_input error that names the field and says what was given instead.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <string>

#include "queuectl/bounds.hpp"
#include "queuectl/error.hpp"

namespace queuectl::detail {

using json_value = rapidjson::Value;

inline std::string describe(const json_value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    default: return v.IsInt64() || v.IsUint64() ? "the integer " + std::to_string(v.IsInt64() ? v.GetInt64() : 0) : "a number";
  }
}

inline std::string want_string(const json_value& v, const char* field) {
  if (!v.IsString()) throw invalid_field(field, "must be a string, got " + describe(v));
  return std::string(v.GetString(), v.GetStringLength());
}

/// A number within `b` (bounds.hpp); the message names the field and the range.
inline double want_bounded(const json_value& v, const char* field, const number_bound& b) {
  if (!v.IsNumber()) throw invalid_field(field, "must be " + b.describe() + ", got " + describe(v));
  if (b.integer && !v.IsInt64() && !v.IsUint64() && v.GetDouble() != std::floor(v.GetDouble()))
    throw invalid_field(field, "must be " + b.describe() + ", got a fraction");
  const double d = v.GetDouble();
  if (!b.contains(d)) throw invalid_field(field, "must be " + b.describe() + ", got " + number_bound::format(d));
  return d;
}

inline std::string compact(const json_value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace queuectl::detail
