#include <queuectl/queuectl.hpp>

int main() {
  int ran = 0;
  auto f = [&](const queuectl::job&) { ++ran; };
  queuectl::memory_queue<queuectl::function_executor<decltype(f)>> q(queuectl::function_executor{f}, {});
  queuectl::job_spec s;
  s.command = "hello";
  q.enqueue(s);
  while (q.run_once("consumer")) {
  }
  return ran == 1 ? 0 : 1;
}
