// A few jobs through the SQLite queue (queuectl::sqlite from the subproject).
#include <queuectl/queuectl.hpp>
#include <queuectl/sqlite_queue.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  queuectl::sqlite_queue<queuectl::noop_executor> q(queuectl::noop_executor{}, {}, std::string(argv[1]));
  std::vector<std::string> ids;
  for (std::string cmd : {"one", "two", "three"}) {
    queuectl::job_spec s;
    s.command = cmd;
    ids.push_back(q.enqueue(s));
  }
  while (q.run_once("subdir")) {
  }
  int done = 0;
  for (const auto& id : ids) done += q.get(id).state == queuectl::job_state::completed;
  std::printf("%d of 3 jobs completed\n", done);
  return done == 3 ? 0 : 1;
}
