/// @file
/// @brief Values on their way to PostgreSQL: text the server accepts, array literals.
/// Part of postgresql_storage (include "queuectl/storage/postgresql_storage.hpp").
#pragma once

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

namespace queuectl::detail {

/// Text PostgreSQL accepts: valid UTF-8 without NUL bytes (invalid bytes become U+FFFD).
/// Executor output can be any bytes; a finish must not fail because of it.
inline std::string pg_text(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= n && c != 0;
    for (std::size_t k = 1; ok && k < len; ++k) ok = (s[i + k] & 0xC0) == 0x80;
    if (ok && len == 2) ok = c >= 0xC2;  // overlong
    if (ok && len == 3) {
      const unsigned cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
      ok = cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok && len == 4) {
      const unsigned cp =
          ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
      ok = cp >= 0x10000 && cp <= 0x10FFFF;
    }
    if (ok) {
      out.append(in, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      i += 1;
    }
  }
  return out;
}

/// Builds a one-dimensional PostgreSQL array literal (`{"a","b"}`, `{1,2}`), bound as one
/// text parameter and cast to its array type in the statement. Text elements are cut at
/// their first NUL byte, as libpq cuts every text parameter (it takes C strings).
class pg_array {
 public:
  void text(std::string_view s) {
    s = s.substr(0, s.find('\0'));
    next();
    out_ += '"';
    for (const char c : s) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  void integer(long long v) {
    next();
    out_ += std::to_string(v);
  }
  void real(double v) {  // shortest form that reads back as the same double
    next();
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  std::string str() const { return out_.empty() ? "{}" : out_ + "}"; }

 private:
  void next() { out_ += out_.empty() ? '{' : ','; }
  std::string out_;
};

}  // namespace queuectl::detail
