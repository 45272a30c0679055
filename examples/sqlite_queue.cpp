// A SQLite-backed queue: jobs survive the process. Run it twice with the same file and
// the second run finds the first run's history.
//
//   example_sqlite_queue /tmp/jobs.db
#include <cstdio>
#include <string>

#include "queuectl/executor/function_executor.hpp"
#include "queuectl/sqlite_queue.hpp"

int main(int argc, char** argv) {
  const std::string db = argc > 1 ? argv[1] : "example.db";
  auto thumbnail = [](const queuectl::job& j) {
    std::printf("making thumbnail for %s\n", j.command.c_str());
    return true;
  };
  queuectl::sqlite_queue<queuectl::function_executor<decltype(thumbnail)>> q(queuectl::function_executor{thumbnail},
                                                                             {}, db);
  q.set_config("max-retries", "5");  // persisted in the file, like `queuectl config set`
  for (const char* photo : {"beach.jpg", "cat.png"}) {
    queuectl::job_spec s;
    s.command = photo;
    s.queue = "thumbnails";
    q.enqueue(s);
  }
  int ran = 0;
  while (q.run_once("example-worker")) ++ran;
  const auto counts = q.counts();
  std::printf("ran %d job(s); %zu completed in %s so far\n", ran, queuectl::at(counts, queuectl::job_state::completed),
              db.c_str());
  return ran >= 2 ? 0 : 1;
}
