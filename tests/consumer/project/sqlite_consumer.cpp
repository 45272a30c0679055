#include <queuectl/queuectl.hpp>
#include <queuectl/sqlite_queue.hpp>

#include <string>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  queuectl::sqlite_queue<queuectl::noop_executor> q(queuectl::noop_executor{}, {}, std::string(argv[1]));
  queuectl::job_spec s;
  s.command = "hello";
  const std::string id = q.enqueue(s);
  while (q.run_once("consumer")) {
  }
  return q.get(id).state == queuectl::job_state::completed ? 0 : 1;
}
