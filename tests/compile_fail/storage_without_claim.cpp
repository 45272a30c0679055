// A storage type that misses claim() must be rejected by basic_queue.
#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/executor/function_executor.hpp"

struct incomplete_storage {
  void insert(const std::vector<queuectl::job>&) {}
};

int main() {
  queuectl::basic_queue<incomplete_storage, queuectl::exponential_backoff, queuectl::noop_executor> q({}, {});
  return 0;
}
