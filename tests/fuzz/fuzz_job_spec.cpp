// libFuzzer target: one job spec through the codec (what `enqueue '<json>'` and the REST
// API parse). Any input must either parse or throw queuectl::error invalid_input — never
// crash, overflow or throw anything else; an accepted spec must hold only bounded values
// and its payload must parse again (it is stored and handed to plugins).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "queuectl/bounds.hpp"
#include "queuectl/job_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace queuectl;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const job_spec s = parse_job_spec(text);
    if (!bounds::priority.contains(s.priority)) std::abort();
    if (s.timeout && !bounds::timeout.contains(*s.timeout)) std::abort();
    if (s.max_retries && !bounds::job_max_retries.contains(*s.max_retries)) std::abort();
    if (s.run_at && (to_ms(*s.run_at) < 0 || to_ms(*s.run_at) > max_time_ms)) std::abort();
    rapidjson::Document payload;
    if (!parse_json(payload, s.payload).empty() || !payload.IsObject()) std::abort();
    // The writer must handle whatever was accepted.
    job j;
    j.id = s.id;
    j.command = s.command;
    j.payload = s.payload;
    j.env = s.env;
    j.timeout = s.timeout.value_or(0);
    rapidjson::Document back;
    if (!parse_json(back, to_json(j)).empty()) std::abort();
  } catch (const error& e) {
    if (e.kind() != error_kind::invalid_input) std::abort();
  }
  return 0;
}
