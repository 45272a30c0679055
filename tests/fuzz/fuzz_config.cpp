// libFuzzer target: `config set KEY VALUE` (and PUT /api/config/KEY). Input: KEY, a newline,
// VALUE. An accepted value must lie in its bound (bounds.hpp), read back the same, and feed
// the duration arithmetic (lease, backoff) without overflow.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/queue_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace queuectl;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = text.find('\n');
  const std::string_view key = text.substr(0, nl);
  const std::string_view value = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  queue_config c;
  std::string k;
  try {
    k = c.set(key, value);
  } catch (const error& e) {
    if (e.kind() != error_kind::invalid_input) std::abort();
    return 0;
  }
  if (k == "job-ids") {  // a choice, not a number
    if (c.get(k) != value || (value != "random" && value != "sequential")) std::abort();
    return 0;
  }
  const number_bound* b = bounds::find(k);
  if (!b) std::abort();
  const std::string shown = c.get(k);
  const auto n = parse_number_text(shown);
  if (!n || !b->contains(*n)) std::abort();
  queue_config again;
  again.set(k, shown);  // what `config get` prints is accepted by `config set`
  if (again.get(k) != shown) std::abort();
  exponential_backoff e;
  e.configure(c);
  for (int attempt : {1, 2, 30, 1000})
    if (e.delay(attempt).count() < 0) std::abort();
  if (saturating_add(now(), saturating_ms(c.lease_seconds)) < now()) std::abort();
  return 0;
}
