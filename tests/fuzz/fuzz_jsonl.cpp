// libFuzzer target: JSON Lines as `enqueue --file` reads them (blank lines, CRLF, one bad
// line rejecting the batch), with enqueue's flags applied as overrides.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "queuectl/job_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace queuectl;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first byte picks the flags set, as `enqueue --priority … --file -` would.
  const unsigned flags = text.empty() ? 0 : static_cast<unsigned char>(text.front());
  if (!text.empty()) text.remove_prefix(1);
  try {
    spec_overrides o;
    if (flags & 1) o.set_json("priority", "5", "--priority");
    if (flags & 2) o.set_json("timeout", "2.5", "--timeout");
    if (flags & 4) o.set_string("queue", "mail", "--queue");
    if (flags & 8) o.set_string("run_at", "2030-01-01T00:00:00Z", "--run-at");
    const auto specs = parse_job_specs_jsonl(text, {}, &o);
    for (const auto& s : specs) {
      if ((flags & 1) && s.priority != 5) std::abort();
      if ((flags & 4) && s.queue != "mail") std::abort();
    }
  } catch (const error& e) {
    if (e.kind() != error_kind::invalid_input) std::abort();
  }
  return 0;
}
