// The `shell` executor: runs `/bin/sh -c COMMAND` with the job's env and cwd.
//
// posix_spawn, never fork(): the host may hold a lot of memory, and glibc's posix_spawn
// uses vfork-like CLONE_VM so its cost does not grow with the host. Between the host and
// the job sits queuectl-shell-supervisor (shell_supervisor.cpp, installed beside this
// plugin): it puts the job in a process group of its own, kills that whole group when the
// host dies — whatever kills it, SIGKILL included, noticed through a "lifeline" pipe whose
// write end only the host holds — and on a timeout or cancel (SIGTERM to the supervisor:
// SIGTERM to the group, SIGKILL after the grace). No process of the job outlives it or the
// host (a job that must leave a daemon behind uses setsid). Cost: one extra small
// process per attempt.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "queuectl/plugin/executor_plugin.hpp"

extern char** environ;

namespace {

using steady = std::chrono::steady_clock;
constexpr std::size_t output_cap = 1u << 20;              // per attempt, stdout+stderr together
constexpr auto kill_grace = std::chrono::milliseconds(2000);  // SIGTERM → SIGKILL

constexpr auto supervisor_slack = std::chrono::milliseconds(2000);  // then SIGKILL the supervisor too

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

/// The host's environment with the job's variables added or replaced.
std::vector<std::string> job_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq && extra.count(std::string(*e, static_cast<std::size_t>(eq - *e)))) continue;
    out.emplace_back(*e);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

/// queuectl-shell-supervisor beside this plugin's own file (build tree and install alike).
const std::string& supervisor_path() {
  static const std::string path = [] {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(&supervisor_path), &info) == 0 || !info.dli_fname) return std::string();
    std::string self = info.dli_fname;
    const auto slash = self.rfind('/');
    return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/queuectl-shell-supervisor";
  }();
  return path;
}

/// A copy of `fd` numbered >= 10 (close-on-exec), so the spawn's dup2 onto 1, 2 and 3
/// never overwrites a source it still needs.
int high_fd(int fd) {
  if (fd >= 10) return fd;
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return copy;
}

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return "killed by signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : "");
}

class shell_executor final : public queuectl::executor_plugin {
 public:
  std::string_view name() const noexcept override { return "shell"; }

 protected:
  std::string check(const queuectl::job_spec& s) const override {
    return s.command.empty() ? "command: required for the shell executor" : "";
  }

  queuectl::attempt_result run(const queuectl::job& j, const queuectl::execution_context& ctx) override {
    const std::string& supervisor = supervisor_path();
    if (::access(supervisor.c_str(), X_OK) != 0)
      return queuectl::attempt_result::failure("shell plugin is incomplete: cannot run " +
                                               (supervisor.empty() ? std::string("queuectl-shell-supervisor") : supervisor) +
                                               ": " + std::strerror(errno));
    int pipefd[2], lifeline[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return queuectl::attempt_result::failure(std::string("pipe: ") + std::strerror(errno));
    fd_guard read_end{high_fd(pipefd[0])}, write_end{high_fd(pipefd[1])};
    // The lifeline: the supervisor watches its read end; the write end stays in this
    // process only (close-on-exec), so the host's death, however it dies, is EOF there.
    if (::pipe2(lifeline, O_CLOEXEC) != 0) return queuectl::attempt_result::failure(std::string("pipe: ") + std::strerror(errno));
    fd_guard lifeline_read{high_fd(lifeline[0])}, lifeline_write{high_fd(lifeline[1])};
    if (read_end.fd < 0 || write_end.fd < 0 || lifeline_read.fd < 0 || lifeline_write.fd < 0)
      return queuectl::attempt_result::failure(std::string("fcntl: ") + std::strerror(errno));

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, write_end.fd, 1);
    posix_spawn_file_actions_adddup2(&fa, write_end.fd, 2);
    posix_spawn_file_actions_adddup2(&fa, lifeline_read.fd, 3);
    if (!j.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, j.cwd.c_str());

    // The host blocks SIGINT/SIGTERM in its threads; the supervisor starts with a clean
    // slate, in a group of its own so a signal to the host's group does not reach it.
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

    std::vector<std::string> env = job_environment(j.env);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string command = j.command, sup = supervisor, host_pid = std::to_string(::getpid()),
                grace_ms = std::to_string(kill_grace.count());
    char sh[] = "/bin/sh", dash_c[] = "-c";
    char* argv[] = {sup.data(), host_pid.data(), grace_ms.data(), sh, dash_c, command.data(), nullptr};

    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, supervisor.c_str(), &fa, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      std::string why = std::strerror(rc);
      if (!j.cwd.empty() && (rc == ENOENT || rc == ENOTDIR || rc == EACCES)) why = "cannot use cwd " + j.cwd + ": " + why;
      return queuectl::attempt_result::failure("could not start /bin/sh: " + why);
    }
    ::close(write_end.fd);
    write_end.fd = -1;
    ::close(lifeline_read.fd);
    lifeline_read.fd = -1;
    fd_guard pidfd{static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))};

    std::string output;
    std::size_t dropped = 0;
    const auto started = steady::now();
    const bool has_timeout = ctx.timeout > 0;
    const auto deadline = started + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(ctx.timeout));
    enum class why_killed { none, timeout, stop } killed = why_killed::none;
    steady::time_point term_sent{};
    bool exited = false, pipe_open = true;
    int status = 0;

    ::fcntl(read_end.fd, F_SETFL, O_NONBLOCK);
    while (!exited) {
      pollfd fds[2];
      nfds_t n = 0;
      if (pipe_open) fds[n++] = {read_end.fd, POLLIN, 0};
      if (pidfd.fd >= 0) fds[n++] = {pidfd.fd, POLLIN, 0};
      // 100 ms slices: the stop token has no fd; with no pidfd we also poll waitpid.
      ::poll(fds, n, pidfd.fd >= 0 ? 100 : 20);
      if (pipe_open) pipe_open = drain(read_end.fd, output, dropped);
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) exited = true;
      if (exited) break;
      const auto now = steady::now();
      if (killed == why_killed::none) {
        if (ctx.stop.stop_requested()) killed = why_killed::stop;
        else if (has_timeout && now >= deadline) killed = why_killed::timeout;
        if (killed != why_killed::none) {
          ::kill(pid, SIGTERM);  // the supervisor: SIGTERM to the job's group, SIGKILL after the grace
          term_sent = now;
        }
      } else if (now - term_sent >= kill_grace + supervisor_slack) {
        // Only if the supervisor itself is stuck (stopped by someone): end it too.
        ::kill(pid, SIGKILL);
      }
    }
    // The supervisor has killed whatever the job left running in its group.
    if (pipe_open) drain(read_end.fd, output, dropped);
    if (dropped) output += "\n[... output truncated: " + std::to_string(dropped) + " bytes dropped]\n";

    queuectl::attempt_result r;
    r.output = std::move(output);
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) {
      r.signal = WTERMSIG(status);
      r.exit_code = 128 + *r.signal;  // as shells report it
    }
    if (killed == why_killed::timeout) {
      r.timed_out = true;
      char buf[64];
      std::snprintf(buf, sizeof buf, "timed out after %gs", ctx.timeout);
      r.error = buf;
      return r;
    }
    if (killed == why_killed::stop) {
      r.error = "canceled";
      return r;
    }
    r.success = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!r.success) {
      if (r.signal) r.error = signal_text(*r.signal);
      else if (*r.exit_code == 127) r.error = "exit code 127 (command not found)";
      else if (*r.exit_code == 126) r.error = "exit code 126 (command not executable)";
      else r.error = "exit code " + std::to_string(*r.exit_code);
    }
    return r;
  }

 private:
  /// Reads what is available; keeps up to the cap and counts the rest. False at EOF.
  static bool drain(int fd, std::string& out, std::size_t& dropped) {
    char buf[65536];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        const std::size_t keep = out.size() < output_cap ? std::min<std::size_t>(static_cast<std::size_t>(n), output_cap - out.size()) : 0;
        out.append(buf, keep);
        dropped += static_cast<std::size_t>(n) - keep;
        continue;
      }
      if (n == 0) return false;
      return errno == EAGAIN || errno == EINTR;
    }
  }
};

}  // namespace

QUEUECTL_EXECUTOR_PLUGIN(shell_executor)
