// A few jobs through the in-memory queue, one of them failing once and retried.
#include <queuectl/queuectl.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main() {
  int runs = 0;
  auto run = [&](const queuectl::job& j) -> queuectl::attempt_result {
    ++runs;
    if (j.command == "flaky" && j.attempts == 1) return queuectl::attempt_result::failure("first try fails");
    return queuectl::attempt_result::ok();
  };
  queuectl::memory_queue<queuectl::function_executor<decltype(run)>> q(queuectl::function_executor{run}, {});
  for (std::string cmd : {"one", "flaky", "three"}) {
    queuectl::job_spec s;
    s.command = cmd;
    q.enqueue(s);
  }
  // The retry of "flaky" becomes due after its backoff delay: poll for at most 30 s.
  for (int i = 0; i < 3000 && queuectl::at(q.counts(), queuectl::job_state::completed) < 3; ++i) {
    while (q.run_once("subdir")) {
    }
    if (queuectl::at(q.counts(), queuectl::job_state::completed) < 3)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto done = queuectl::at(q.counts(), queuectl::job_state::completed);
  std::printf("%zu of 3 jobs completed in %d attempts\n", done, runs);
  return done == 3 && runs == 4 ? 0 : 1;
}
