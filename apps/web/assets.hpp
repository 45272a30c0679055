// The dashboard's static files, compiled into the binary (web_assets.cpp is generated
// from apps/web/assets/ at build time), so the page needs no files and no network.
#pragma once

#include <span>
#include <string_view>

namespace queuectl::web {

struct asset {
  std::string_view path;          ///< "/index.html", "/app.js", …
  std::string_view content_type;  ///< with charset for text
  std::string_view body;
};

/// Every embedded file.
std::span<const asset> embedded_assets();

}  // namespace queuectl::web
