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

namespace detail {
inline int hex4(std::string_view t, std::size_t at) {
  if (at + 4 > t.size()) return -1;
  int v = 0;
  for (std::size_t k = at; k < at + 4; ++k) {
    const char c = t[k];
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}
}  // namespace detail

/// @brief What RapidJSON 1.1 does not check, found without parsing: nesting deeper than
/// `max_depth` (`[`/`{` outside strings), and a `\\u` escape of U+DC00..U+DFFF not preceded by a
/// high surrogate (1.1 decodes it into invalid UTF-8). Returns "" or a one-line reason. On
/// malformed text the depth may be off, but never below what a parser reaches before failing.
inline std::string json_prescan(std::string_view text, int max_depth = max_json_depth) {
  int depth = 0;
  bool in_string = false;
  std::size_t after_high = std::string_view::npos;  // offset just past a high-surrogate escape
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        if (i + 1 < text.size() && text[i + 1] == 'u') {
          const int cp = detail::hex4(text, i + 2);
          if (cp >= 0xdc00 && cp <= 0xdfff && after_high != i)
            return "lone UTF-16 surrogate escape at offset " + std::to_string(i);
          after_high = cp >= 0xd800 && cp <= 0xdbff ? i + 6 : std::string_view::npos;
        }
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        return "nested deeper than " + std::to_string(max_depth) + " levels at offset " + std::to_string(i);
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return {};
}

/// @brief Parses `text` into `doc`. Returns "" on success, else a one-line reason:
/// `nested deeper than 64 levels at offset 64`, `invalid UTF-8 at offset 3`,
/// `malformed JSON at offset 9: Missing a comma or ']' after an array element.`
/// Trailing text after the value is an error. `ExtraFlags` adds RapidJSON parse flags
/// (e.g. kParseFullPrecisionFlag).
template <unsigned ExtraFlags = 0>
std::string parse_json(rapidjson::Document& doc, std::string_view text, int max_depth = max_json_depth) {
  if (std::string why = json_prescan(text, max_depth); !why.empty()) {
    doc.SetNull();
    return why;
  }
  constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | ExtraFlags;
  doc.Parse<flags>(text.data(), text.size());
  if (!doc.HasParseError()) return {};
  if (doc.GetParseError() == rapidjson::kParseErrorStringInvalidEncoding ||
      doc.GetParseError() == rapidjson::kParseErrorStringUnicodeSurrogateInvalid)
    return "invalid UTF-8 at offset " + std::to_string(doc.GetErrorOffset());
  return "malformed JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
         rapidjson::GetParseError_En(doc.GetParseError());
}

/// True when the parse reason from parse_json() is about invalid UTF-8.
inline bool is_encoding_reason(std::string_view reason) {
  return reason.rfind("invalid UTF-8", 0) == 0 || reason.rfind("lone UTF-16", 0) == 0;
}
/// True when the parse reason from parse_json() is about nesting.
inline bool is_depth_reason(std::string_view reason) { return reason.rfind("nested deeper", 0) == 0; }

}  // namespace queuectl
