// queuectl-shell-supervisor: the small process the shell plugin puts between the host and
// a job, so that the job's processes never outlive the host, whatever kills it (SIGKILL
// included). See docs/plugins.md ("The shell executor").
//
//   queuectl-shell-supervisor HOST_PID GRACE_MS PROGRAM [ARG...]     (fd 3: the lifeline)
//
// - Starts PROGRAM in a process group of its own (the job's group) and waits for it.
// - Host death: fd 3 is the read end of a pipe whose write end only the host holds, so
//   EOF on it means the host is gone (every thread, any cause). PR_SET_PDEATHSIG is a
//   second trigger; it fires when the *thread* that spawned us exits, so it is only
//   believed when getppid() is no longer HOST_PID. Either way: SIGKILL to the job's group,
//   then exit.
// - SIGTERM (the plugin's cancel / timeout): SIGTERM to the job's group, SIGKILL to it
//   GRACE_MS later if the job is still there.
// - The job's leader exits: what is left of its group is killed (before the leader is
//   reaped, so the group id cannot be reused meanwhile), and the supervisor ends the same
//   way the leader did (exit code, or the same signal), so the plugin sees what the job did.
// Exit 125: bad usage or the host was already gone; 127: PROGRAM could not be started.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace {

constexpr int lifeline_fd = 3;
constexpr int host_died_signal = SIGUSR1;  // PR_SET_PDEATHSIG; verified with getppid()

using steady = std::chrono::steady_clock;

[[noreturn]] void kill_job_and_exit(pid_t job) {
  ::kill(-job, SIGKILL);
  ::waitpid(job, nullptr, 0);
  ::_exit(125);
}

/// Ends this process the way the job's leader ended.
[[noreturn]] void exit_like(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);  // the job may have dumped core; we must not
    ::signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
  }
  ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: queuectl-shell-supervisor HOST_PID GRACE_MS PROGRAM [ARG...] (fd 3: lifeline)\n");
    return 125;
  }
  const pid_t host = static_cast<pid_t>(std::strtol(argv[1], nullptr, 10));
  const long grace_ms = std::strtol(argv[2], nullptr, 10);

  // Signals this process takes through a signalfd; the job gets a clean slate below.
  sigset_t handled;
  sigemptyset(&handled);
  for (int s : {SIGCHLD, SIGTERM, host_died_signal}) sigaddset(&handled, s);
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  for (int s : {SIGINT, SIGHUP, SIGQUIT, SIGPIPE}) ::signal(s, SIG_IGN);

  // Set the death signal first, then check the parent: closes the race with a host that
  // died before prctl().
  ::prctl(PR_SET_PDEATHSIG, host_died_signal);
  if (::getppid() != host) return 125;
  if (::fcntl(lifeline_fd, F_SETFD, FD_CLOEXEC) != 0) {
    std::fprintf(stderr, "queuectl-shell-supervisor: fd 3 (lifeline) is not open\n");
    return 125;
  }
  const int sigfd = ::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) {
    std::fprintf(stderr, "queuectl-shell-supervisor: signalfd: %s\n", std::strerror(errno));
    return 125;
  }

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  pid_t job = -1;
  const int rc = ::posix_spawn(&job, argv[3], nullptr, &attr, argv + 3, environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::fprintf(stderr, "could not start %s: %s\n", argv[3], std::strerror(rc));
    return 127;
  }

  bool terminating = false;
  steady::time_point kill_at{};
  while (true) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(job), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == job) {
      ::kill(-job, SIGKILL);  // the leader is a zombie: its group id is still ours
      int status = 0;
      ::waitpid(job, &status, 0);
      exit_like(status);
    }
    int timeout_ms = -1;
    if (terminating) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - steady::now()).count();
      if (left <= 0) {
        ::kill(-job, SIGKILL);
        terminating = false;  // nothing more to escalate; SIGCHLD follows
      } else {
        timeout_ms = static_cast<int>(left);
      }
    }
    pollfd fds[2] = {{lifeline_fd, POLLIN, 0}, {sigfd, POLLIN, 0}};
    if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) kill_job_and_exit(job);
    // The host never writes: readable or hung up both mean every write end is closed.
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) kill_job_and_exit(job);
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (static_cast<int>(si.ssi_signo) == host_died_signal && ::getppid() != host) kill_job_and_exit(job);
        if (static_cast<int>(si.ssi_signo) == SIGTERM && kill_at == steady::time_point{}) {
          ::kill(-job, SIGTERM);
          terminating = true;
          kill_at = steady::now() + std::chrono::milliseconds(grace_ms);
        }
      }
    }
  }
}
