// Does the shell plugin's spawn cost grow with the host's memory? It must not: the host
// may hold a lot (a big queue in memory, many plugins), and fork() copies page tables in
// proportion. Runs N `true` jobs through the real shell plugin while the process is
// small, then again after allocating and touching 512 MB, and prints the ratio
// (target <= 1.2). For contrast it times plain fork()+exec at both sizes.
// Each job costs two posix_spawns: the host spawns queuectl-shell-supervisor (small,
// so its own spawn of /bin/sh is cheap), which ties the job to the host's life.
//
//   ./build/bench/spawn_bench [jobs=1000] [megabytes=512]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "queuectl/plugin/loader.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_for(int n, auto&& one) {
  const auto t0 = clock_type::now();
  for (int i = 0; i < n; ++i) one();
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

void fork_exec_true() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 1000;
  const std::size_t megabytes = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 512;
  queuectl::plugin_loader loader({QUEUECTL_BENCH_PLUGIN_DIR});
  const auto shell = loader.load_executor("shell");
  queuectl::job j;
  j.executor = "shell";
  j.command = "true";
  const auto run_job = [&] {
    if (!shell->execute(j, queuectl::execution_context{}).success) {
      std::fprintf(stderr, "spawn_bench: job failed\n");
      std::exit(1);
    }
  };
  run_job();  // warm up: page in the plugin and /bin/sh

  const double small_shell = seconds_for(jobs, run_job);
  const double small_fork = seconds_for(jobs, fork_exec_true);

  const std::size_t bytes = megabytes << 20;
  std::unique_ptr<char[]> ballast(new char[bytes]);
  std::memset(ballast.get(), 1, bytes);  // touched, so the pages are really resident

  const double big_shell = seconds_for(jobs, run_job);
  const double big_fork = seconds_for(jobs, fork_exec_true);
  volatile char keep = ballast[bytes / 2];
  (void)keep;

  std::printf("spawn: %d `true` jobs through the shell plugin, host small vs holding %zu MB\n", jobs, megabytes);
  std::printf("  shell plugin, small host : %.3f s (%.0f spawns/s)\n", small_shell, jobs / small_shell);
  std::printf("  shell plugin, %zu MB host : %.3f s (%.0f spawns/s)\n", megabytes, big_shell, jobs / big_shell);
  std::printf("  ratio (cost, big/small): %.2fx  (target <= 1.2)\n", big_shell / small_shell);
  std::printf("  for contrast, fork()+exec: small %.3f s, %zu MB %.3f s, ratio %.2fx\n", small_fork, megabytes, big_fork,
              big_fork / small_fork);
  return 0;
}
