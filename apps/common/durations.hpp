// Durations as people write them: `--since 1h`, `--timeout 30s`, `2m03s` in tables.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "queuectl/time.hpp"

namespace queuectl::app {

/// 850ms, 1.25s, 2m03s, 1h02m, 3d04h.
std::string format_duration(milliseconds d);

/// Parses `30s`, `5m`, `1h`, `2d`, `1w`, `250ms`, `1.5h`; a bare number is seconds.
/// Returns nullopt for anything else, negative or beyond ten years.
std::optional<milliseconds> parse_duration(std::string_view s);

}  // namespace queuectl::app
