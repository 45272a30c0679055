// Lets Boost.Test print queuectl enums in failure messages.
#pragma once

#include <ostream>

#include "queuectl/job.hpp"

namespace queuectl {
inline std::ostream& operator<<(std::ostream& os, job_state s) { return os << to_string(s); }
inline std::ostream& operator<<(std::ostream& os, attempt_outcome o) { return os << to_string(o); }
}  // namespace queuectl
