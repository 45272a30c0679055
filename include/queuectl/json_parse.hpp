/// @file
/// @brief The one way queuectl parses untrusted JSON: RapidJSON's iterative parser (no
/// recursion, so no stack overflow) behind an explicit nesting limit, UTF-8 validated.
///
/// RapidJSON's default parser recurses once per nesting level: 100,000 `[` crash the
/// process. The iterative parser does not, but writing (`Accept`) and walking a document
/// still recurse, hence the depth limit checked before parsing. Used by the job-spec codec
/// (CLI argument, JSON Lines, REST bodies), the REST API, the http plugin's payload check
/// and the stored-JSON readers.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace queuectl {

/// Deepest nesting of arrays/objects accepted anywhere (a job spec with a payload object
/// holding an object is depth 3).
inline constexpr int max_json_depth = 64;

/// @brief Nesting depth check without parsing: the deepest `[`/`{` level outside strings.
/// Returns the offset where `max_depth` is first exceeded, or npos. On malformed text the
/// count may be off, but never below what a parser would reach before failing.
inline std::size_t json_depth_exceeded_at(std::string_view text, int max_depth = max_json_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return std::string_view::npos;
}

/// @brief Parses `text` into `doc`. Returns "" on success, else a one-line reason:
/// `nested deeper than 64 levels at offset 64`, `invalid UTF-8 at offset 3`,
/// `malformed JSON at offset 9: Missing a comma or ']' after an array element.`
/// Trailing text after the value is an error. `ExtraFlags` adds RapidJSON parse flags
/// (e.g. kParseFullPrecisionFlag).
template <unsigned ExtraFlags = 0>
std::string parse_json(rapidjson::Document& doc, std::string_view text, int max_depth = max_json_depth) {
  if (const std::size_t at = json_depth_exceeded_at(text, max_depth); at != std::string_view::npos) {
    doc.SetNull();
    return "nested deeper than " + std::to_string(max_depth) + " levels at offset " + std::to_string(at);
  }
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | ExtraFlags;
  doc.Parse<flags>(text.data(), text.size());
  if (!doc.HasParseError()) return {};
  if (doc.GetParseError() == rapidjson::kParseErrorStringInvalidEncoding)
    return "invalid UTF-8 at offset " + std::to_string(doc.GetErrorOffset());
  return "malformed JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
         rapidjson::GetParseError_En(doc.GetParseError());
}

/// True when the parse reason from parse_json() is about invalid UTF-8.
inline bool is_encoding_reason(std::string_view reason) { return reason.rfind("invalid UTF-8", 0) == 0; }
/// True when the parse reason from parse_json() is about nesting.
inline bool is_depth_reason(std::string_view reason) { return reason.rfind("nested deeper", 0) == 0; }

}  // namespace queuectl
