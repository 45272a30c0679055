#include "durations.hpp"

#include <cmath>
#include <cstdio>

namespace queuectl::app {

std::string format_duration(milliseconds d) {
  long long ms = d.count();
  const char* sign = "";
  if (ms < 0) {
    sign = "-";
    ms = -ms;
  }
  char buf[48];
  if (ms < 1000) std::snprintf(buf, sizeof buf, "%s%lldms", sign, ms);
  else if (ms < 60'000) std::snprintf(buf, sizeof buf, "%s%.2fs", sign, static_cast<double>(ms) / 1000.0);
  else if (ms < 3'600'000) std::snprintf(buf, sizeof buf, "%s%lldm%02llds", sign, ms / 60'000, ms / 1000 % 60);
  else if (ms < 86'400'000) std::snprintf(buf, sizeof buf, "%s%lldh%02lldm", sign, ms / 3'600'000, ms / 60'000 % 60);
  else std::snprintf(buf, sizeof buf, "%s%lldd%02lldh", sign, ms / 86'400'000, ms / 3'600'000 % 24);
  return buf;
}

std::optional<milliseconds> parse_duration(std::string_view s) {
  std::size_t i = 0;
  double whole = 0;
  bool digits = false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    whole = whole * 10 + (s[i] - '0');
    digits = true;
    ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    double scale = 0.1;
    bool frac = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole += (s[i] - '0') * scale;
      scale /= 10;
      frac = true;
      ++i;
    }
    if (!frac) return std::nullopt;
  }
  if (!digits) return std::nullopt;
  const std::string_view unit = s.substr(i);
  double factor;
  if (unit.empty() || unit == "s") factor = 1000;
  else if (unit == "ms") factor = 1;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else if (unit == "d") factor = 86'400'000;
  else if (unit == "w") factor = 7 * 86'400'000.0;
  else return std::nullopt;
  const double ms = whole * factor;
  if (!std::isfinite(ms) || ms > 3650.0 * 86'400'000) return std::nullopt;
  return milliseconds(static_cast<long long>(std::llround(ms)));
}

}  // namespace queuectl::app
