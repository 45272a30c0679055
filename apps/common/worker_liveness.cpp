#include "worker_liveness.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

namespace queuectl::app {

namespace {

const std::string& this_machine() {
  static const std::string name = [] {
    char buf[256] = {0};
    return ::gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : std::string();
  }();
  return name;
}

/// Wall-clock time a process of this machine started: boot time + its start in ticks.
std::optional<time_point> process_start(long pid, char& state) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return std::nullopt;
  const auto paren = line.rfind(')');  // the command name may hold spaces and parens
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && fields >> field; ++i) {  // field 3 is the state, 22 the start time
    if (i == 3) state = field.empty() ? '?' : field[0];
    if (i == 22) start_ticks = std::strtoull(field.c_str(), nullptr, 10);
  }
  std::ifstream proc_stat("/proc/stat");
  long long boot = -1;
  for (std::string key; proc_stat >> key;) {
    if (key == "btime") {
      proc_stat >> boot;
      break;
    }
    std::getline(proc_stat, line);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (boot < 0 || ticks <= 0 || start_ticks == 0) return std::nullopt;
  return time_point(milliseconds(boot * 1000 + static_cast<long long>(start_ticks * 1000 / static_cast<unsigned long long>(ticks))));
}

/// For a worker registered from this machine: false if its process is gone — no such pid,
/// a zombie, or a process that started after the worker's last heartbeat (the pid was
/// reused; a live worker's process always started before its heartbeats, even across a
/// clock step once one heartbeat has followed it). nullopt for a worker of another machine.
std::optional<bool> local_process_alive(const worker_info& w) {
  if (w.hostname.empty() || w.hostname != this_machine() || w.pid <= 0 || w.pid > INT_MAX) return std::nullopt;
  const auto pid = static_cast<pid_t>(w.pid);
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;  // EPERM: it exists, another user's
  char state = '?';
  const std::optional<time_point> started = process_start(pid, state);
  if (state == 'Z' || state == 'X') return false;
  // btime has a resolution of 1 s: allow 2 s before calling the pid reused.
  if (started && *started > w.heartbeat_at + std::chrono::seconds(2)) return false;
  return true;
}

}  // namespace

std::string_view to_string(worker_liveness l) noexcept {
  switch (l) {
    case worker_liveness::alive: return "alive";
    case worker_liveness::stale: return "stale";
    case worker_liveness::gone: return "gone";
  }
  return "stale";
}

worker_liveness liveness_of(const worker_info& w, time_point now, double lease_seconds) {
  if (local_process_alive(w) == false) return worker_liveness::gone;
  const double limit_ms = std::max(3.0 * lease_seconds, 10.0) * 1000.0;
  return static_cast<double>((now - w.heartbeat_at).count()) <= limit_ms ? worker_liveness::alive
                                                                          : worker_liveness::stale;
}

bool worker_is_fresh(const worker_info& w, time_point now, double lease_seconds) {
  return liveness_of(w, now, lease_seconds) == worker_liveness::alive;
}

int active_slots(const std::vector<worker_info>& workers, time_point now, double lease_seconds) {
  int n = 0;
  for (const auto& w : workers)
    if (worker_is_fresh(w, now, lease_seconds)) n += w.slots;
  return n;
}

std::map<std::string, std::size_t> missing_executors(const std::map<std::string, std::size_t>& waiting,
                                                     const std::vector<worker_info>& workers, time_point now,
                                                     double lease_seconds) {
  std::map<std::string, std::size_t> out;
  for (const auto& [executor, n] : waiting) {
    bool covered = false;
    for (const auto& w : workers)
      covered = covered || (worker_is_fresh(w, now, lease_seconds) && covers_executor(w.executors, executor));
    if (!covered && n > 0) out.emplace(executor, n);
  }
  return out;
}

}  // namespace queuectl::app
