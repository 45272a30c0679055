// A custom queue type composed at compile time: in-memory storage, a backoff policy
// written here, and a lambda as the executor. No database, no plugins.
#include <cstdio>
#include <string>
#include <thread>

#include "queuectl/executor/function_executor.hpp"
#include "queuectl/memory_queue.hpp"
#include "queuectl/worker_pool.hpp"

// Any type with `delay(int failed_attempts)` is a backoff policy: here a Fibonacci one.
struct fibonacci_backoff {
  queuectl::milliseconds unit{10};
  queuectl::milliseconds delay(int n) const {
    long long prev = 0, cur = 1;  // 1, 1, 2, 3, 5, … units
    for (int i = 1; i < n; ++i) {
      const long long next = prev + cur;
      prev = cur;
      cur = next;
    }
    return unit * cur;
  }
};
static_assert(queuectl::backoff_policy<fibonacci_backoff>);

int main() {
  // Fails the first attempt of every job whose command is "flaky", then succeeds.
  auto run = [](const queuectl::job& j) -> queuectl::attempt_result {
    if (j.command == "flaky" && j.attempts == 1) return queuectl::attempt_result::failure("first try fails");
    std::printf("ran %s (%s) on attempt %d\n", j.id.c_str(), j.command.c_str(), j.attempts);
    return queuectl::attempt_result::ok();
  };
  using my_queue = queuectl::basic_queue<queuectl::memory_storage_mt, fibonacci_backoff, queuectl::function_executor<decltype(run)>>;
  my_queue q(queuectl::function_executor{run}, fibonacci_backoff{});

  for (std::string cmd : {"resize image", "flaky", "send mail"}) {
    queuectl::job_spec s;
    s.command = cmd;
    q.enqueue(s);
  }
  queuectl::worker_pool pool(q, {.threads = 2});
  pool.start();
  // Wait (polling) until all three jobs are completed, at most 10 s.
  for (int i = 0; i < 1000 && queuectl::at(q.counts(), queuectl::job_state::completed) < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pool.request_stop();
  pool.join();
  const auto done = queuectl::at(q.counts(), queuectl::job_state::completed);
  std::printf("%zu of 3 jobs completed\n", done);
  return done == 3 ? 0 : 1;
}
