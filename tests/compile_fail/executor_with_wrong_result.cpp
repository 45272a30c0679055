// An executor whose execute() returns bool instead of attempt_result must be rejected.
#include "queuectl/memory_queue.hpp"

struct bool_executor {
  bool execute(const queuectl::job&, const queuectl::execution_context&) { return true; }
};

int main() {
  queuectl::memory_queue<bool_executor> q({}, {});
  return 0;
}
