// libFuzzer target: the http executor's payload check (plugins/http/http_spec.hpp), run by
// `enqueue` before anything is stored, plus the URL, redirect and Retry-After parsers that
// see server-controlled text. The first byte picks the parser.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace queuectl::http_executor;
  if (size == 0) return 0;
  const unsigned mode = data[0] % 4;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode) {
    case 0: {
      const auto p = parse_payload(text);
      if (p.value && p.value->timeout && !(*p.value->timeout > 0 && *p.value->timeout <= queuectl::bounds::timeout.max))
        std::abort();
      break;
    }
    case 1: (void)parse_url(text); break;
    case 2: {
      const auto base = parse_url("http://example.org/a/b?c");
      if (!base.value) std::abort();
      (void)resolve_location(*base.value, text);
      break;
    }
    default: {
      const auto w = parse_retry_after(text, std::chrono::system_clock::now());
      if (w && (w->count() < 0 || *w > std::chrono::hours(24 * 31))) std::abort();
    }
  }
  return 0;
}
