/// @file
/// @brief Lets Boost.Test (and any ostream) print queuectl's enums and small records in failure messages.
#pragma once

#include <ostream>

#include "queuectl/error.hpp"
#include "queuectl/job.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl {
inline std::ostream& operator<<(std::ostream& os, job_state s) { return os << to_string(s); }
inline std::ostream& operator<<(std::ostream& os, attempt_outcome o) { return os << to_string(o); }
inline std::ostream& operator<<(std::ostream& os, error_kind k) { return os << static_cast<int>(k); }
inline std::ostream& operator<<(std::ostream& os, const minute_count& c) {
  return os << "{minute " << c.minute << ": " << c.succeeded << " ok, " << c.failed << " failed}";
}
}  // namespace queuectl
