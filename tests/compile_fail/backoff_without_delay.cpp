// A backoff type without delay(int) must be rejected by basic_queue.
#include "queuectl/executor/function_executor.hpp"
#include "queuectl/memory_queue.hpp"

struct no_delay_backoff {
#ifndef QUEUECTL_COMPILE_FAIL_CASE
  queuectl::milliseconds delay(int) const { return queuectl::milliseconds(1); }
#endif
};

int main() {
  queuectl::basic_queue<queuectl::memory_storage_mt, no_delay_backoff, queuectl::noop_executor> q({}, {});
  return 0;
}
