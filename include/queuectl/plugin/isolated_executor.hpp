/// @file
/// @brief An executor plugin run in helper processes, so that a crash of the plugin fails
/// one attempt instead of taking the host down (docs/plugins.md, "Isolation").
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "queuectl/error.hpp"
#include "queuectl/plugin/detail/helper_protocol.hpp"
#include "queuectl/plugin/executor_plugin.hpp"
#include "queuectl/plugin/plugin_helper.hpp"

extern char** environ;

namespace queuectl {

/// "signal 11 (SIGSEGV)"
inline std::string describe_signal(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return "signal " + std::to_string(sig) + (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
}

/// @brief Runs one executor plugin in helper processes (`<exe> --plugin-helper`, see
/// plugin_helper.hpp), one helper per attempt in flight.
///
/// Why one helper per concurrent attempt rather than one shared, multi-threaded helper:
/// a crash kills the whole helper process, and with it every attempt running there; with
/// a helper per attempt only the attempt that crashed fails (the others never shared its
/// address space). Helpers are started lazily (the first at construction, which also
/// loads the plugin and reports its name or its load error) and kept idle between
/// attempts, so a host with N worker slots has at most N of them; a dead one is replaced
/// by the next attempt that needs one.
///
/// Stops (`ctx.stop`: cancel, lost lease, forced shutdown) are forwarded to the helper at
/// once. `abandon(job_id)` kills the helper running that job (for the worker's deadline
/// enforcement): its attempt returns at once with the given reason.
class isolated_executor final : public executor_plugin {
 public:
  struct options {
    /// The helper's command line: a program that calls run_plugin_helper(), e.g.
    /// {"/proc/self/exe", "--plugin-helper"}.
    std::vector<std::string> helper_argv;
    /// What to execute, if not helper_argv[0] (e.g. "/proc/self/exe", while argv[0] names
    /// the binary for `ps`).
    std::string helper_path;
    std::string plugin_path;                      ///< resolved path of the plugin library
    std::map<std::string, std::string> settings;  ///< the plugin's own options (or later: configure())
    std::function<void(const std::string&)> log;  ///< one line per helper event
    std::chrono::milliseconds start_timeout{30000};
  };

  /// Starts the first helper, which loads the plugin: throws queuectl::error
  /// (invalid_input) with the loader's own error if it cannot, or if the helper crashes.
  explicit isolated_executor(options o) : opts_(std::move(o)) {
    std::string why, id;
    auto h = spawn(why, id);
    if (!h) throw error(error_kind::invalid_input, id.empty() ? "queuectl.plugin.helper_failed" : id, why);
    idle_.push_back(std::move(h));
  }
  ~isolated_executor() override {
    std::lock_guard lock(mu_);
    for (auto& h : idle_) retire(*h);
  }
  isolated_executor(const isolated_executor&) = delete;
  isolated_executor& operator=(const isolated_executor&) = delete;

  std::string_view name() const noexcept override { return name_; }

  /// Kills the helper running `job_id` (if any): its attempt fails at once with `reason`
  /// (marked timed out when `timed_out`). True if such an attempt was running here.
  bool abandon(const std::string& job_id, const std::string& reason, bool timed_out = true) {
    std::lock_guard lock(mu_);
    auto it = running_.find(job_id);
    if (it == running_.end()) return false;
    it->second.abandoned = reason;
    it->second.timed_out = timed_out;
    ::kill(it->second.h->pid, SIGKILL);  // not reaped until run() sees the EOF: the pid is still ours
    return true;
  }

  /// What the library exports besides (or instead of) an executor: the host loads an
  /// exporter in-process, and drops this object if `has_executor()` is false.
  bool has_executor() const { return has_executor_; }
  bool has_exporter() const { return has_exporter_; }

  /// After fork() (daemonizing): the idle helpers are the parent's children, not ours;
  /// close them (they exit) and let the next attempts start new ones.
  void drop_idle_helpers() {
    std::lock_guard lock(mu_);
    for (auto& h : idle_) ::close(h->fd);
    idle_.clear();
  }

  /// Helper processes started so far (the first included); for tests and logs.
  std::size_t helpers_started() const {
    std::lock_guard lock(mu_);
    return started_;
  }

 protected:
  attempt_result run(const job& j, const execution_context& ctx) override {
    namespace w = detail::helper_wire;
    std::string why, id;
    auto h = acquire(why, id);
    if (!h) return attempt_result::failure(why);
    {
      std::lock_guard lock(mu_);
      running_[j.id] = running{h.get(), {}, false};
    }
    const std::string request = w::message("run", [&](w::writer& wr) {
      w::put_job(wr, "job", j);
      wr.Key("attempt"), wr.Int(ctx.attempt);
      wr.Key("timeout"), wr.Double(ctx.timeout);
      wr.Key("started_at"), wr.Int64(to_ms(ctx.started_at));
      w::put(wr, "worker", ctx.worker);
    });
    std::optional<std::string> reply;
    if (w::write_frame(h->fd, request)) {
      // Forwarded from whichever thread requests the stop; the only writer meanwhile.
      std::stop_callback forward(ctx.stop, [fd = h->fd] { w::write_frame(fd, w::message("stop")); });
      reply = w::read_frame(h->fd);
    }
    running state;
    {
      std::lock_guard lock(mu_);
      state = running_[j.id];
      running_.erase(j.id);
    }
    if (reply && state.abandoned.empty())
      if (auto doc = w::parse(*reply); doc && std::string_view((*doc)["op"].GetString()) == "result" &&
                                       doc->HasMember("result")) {
        release(std::move(h));
        return w::get_result((*doc)["result"]);
      }
    int sig = 0;
    const std::string death = bury(*h, &sig);
    if (!state.abandoned.empty()) {
      attempt_result r = attempt_result::failure(state.abandoned);
      r.timed_out = state.timed_out;
      return r;
    }
    attempt_result r = attempt_result::failure("plugin '" + name_ + "' crashed: " + death);
    if (sig) r.signal = sig;
    return r;
  }

  /// Sends the options to the helpers (every later one gets them too); the plugin's own
  /// answer, e.g. an unknown option.
  std::string setup(const std::map<std::string, std::string>& settings) override {
    std::vector<std::unique_ptr<helper>> helpers;
    {
      std::lock_guard lock(mu_);
      opts_.settings = settings;
      helpers.swap(idle_);
    }
    std::string why;
    for (auto& h : helpers) {
      if (why.empty()) why = configure_helper(*h);
      if (h->fd >= 0) release(std::move(h));
    }
    return why;
  }

  std::string check(const job_spec& s) const override {
    namespace w = detail::helper_wire;
    auto& self = const_cast<isolated_executor&>(*this);  // the helper pool is not part of the value
    std::string why, id;
    auto h = self.acquire(why, id);
    if (!h) return why;
    std::optional<std::string> reply;
    if (w::write_frame(h->fd, w::message("check", [&](w::writer& wr) { w::put_spec(wr, "spec", s); })))
      reply = w::read_frame(h->fd);
    if (reply)
      if (auto doc = w::parse(*reply); doc && std::string_view((*doc)["op"].GetString()) == "checked") {
        self.release(std::move(h));
        return w::str(*doc, "error");
      }
    return "plugin '" + name_ + "' crashed while checking the job: " + self.bury(*h);
  }

 private:
  struct helper {
    pid_t pid = -1;
    int fd = -1;
  };
  struct running {
    helper* h = nullptr;
    std::string abandoned;  ///< set by abandon(): why the helper was killed
    bool timed_out = false;
  };

  void log(const std::string& line) const {
    if (opts_.log) opts_.log(line);
  }

  /// An idle helper, or a new one (nullptr with `why` if it cannot start).
  std::unique_ptr<helper> acquire(std::string& why, std::string& id) {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto h = std::move(idle_.back());
        idle_.pop_back();
        return h;
      }
    }
    return spawn(why, id);
  }
  void release(std::unique_ptr<helper> h) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(h));
  }

  /// Starts a helper and loads the plugin in it.
  std::unique_ptr<helper> spawn(std::string& why, std::string& id) {
    namespace w = detail::helper_wire;
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      why = std::string("cannot start a helper for plugin ") + opts_.plugin_path + ": socketpair: " + std::strerror(errno);
      return nullptr;
    }
    if (sv[1] == plugin_helper_fd) {  // dup2 onto itself would keep O_CLOEXEC
      const int moved = ::fcntl(sv[1], F_DUPFD_CLOEXEC, plugin_helper_fd + 1);
      ::close(sv[1]);
      sv[1] = moved;
    }
    posix_spawn_file_actions_t fa;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(&fa, sv[1], plugin_helper_fd);
    std::vector<char*> argv;
    for (auto& a : opts_.helper_argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    const char* path = opts_.helper_path.empty() ? argv[0] : opts_.helper_path.c_str();
    const int rc = argv.size() > 1 ? ::posix_spawn(&pid, path, &fa, nullptr, argv.data(), environ) : EINVAL;
    ::posix_spawn_file_actions_destroy(&fa);
    ::close(sv[1]);
    if (rc != 0) {
      ::close(sv[0]);
      why = "cannot start a helper for plugin " + opts_.plugin_path + ": " + std::strerror(rc);
      return nullptr;
    }
    auto h = std::make_unique<helper>();
    h->pid = pid;
    h->fd = sv[0];
    const std::string load = w::message("load", [&](w::writer& wr) {
      w::put(wr, "path", opts_.plugin_path);
      w::put_map(wr, "settings", opts_.settings);
    });
    std::optional<std::string> reply;
    if (w::write_frame(h->fd, load) && w::wait_readable(h->fd, static_cast<int>(opts_.start_timeout.count())))
      reply = w::read_frame(h->fd);
    auto doc = reply ? w::parse(*reply) : std::nullopt;
    const std::string op = doc ? (*doc)["op"].GetString() : "";
    if (op == "ready") {
      {
        std::lock_guard lock(mu_);
        if (name_.empty()) name_ = w::str(*doc, "name");
        has_executor_ = w::flag(*doc, "executor");
        has_exporter_ = w::flag(*doc, "exporter");
        ++started_;
        if (started_ > 1) log("plugin '" + name_ + "': started helper process " + std::to_string(pid));
      }
      if (!opts_.settings.empty()) {
        if (std::string bad = configure_helper(*h); !bad.empty()) {
          why = bad;
          id = "queuectl.plugin.bad_option";
          if (h->fd >= 0) retire(*h);
          return nullptr;
        }
      }
      return h;
    }
    if (op == "error") {
      id = w::str(*doc, "id");
      why = w::str(*doc, "error");
      retire(*h);
    } else {
      why = "plugin " + opts_.plugin_path + " crashed while loading in its helper process: " + bury(*h);
    }
    return nullptr;
  }

  /// Hands a helper the options; "" or the plugin's (or the crash's) reason.
  std::string configure_helper(helper& h) {
    namespace w = detail::helper_wire;
    std::optional<std::string> reply;
    if (w::write_frame(h.fd, w::message("configure", [&](w::writer& wr) { w::put_map(wr, "settings", opts_.settings); })))
      reply = w::read_frame(h.fd);
    if (reply)
      if (auto doc = w::parse(*reply); doc && std::string_view((*doc)["op"].GetString()) == "configured")
        return w::str(*doc, "error");
    return "plugin '" + name_ + "' crashed while taking its options: " + bury(h);
  }

  /// Waits for a helper whose socket failed to die (killing it if it lingers) and says
  /// how it ended; its descriptor is closed. Logged: the next attempt starts a new one.
  std::string bury(helper& h, int* signal = nullptr) {
    ::close(h.fd);
    h.fd = -1;
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 200 && !reaped; ++i) {  // a crashed process is gone within ms
      const pid_t r = ::waitpid(h.pid, &status, WNOHANG);
      if (r == h.pid || (r < 0 && errno != EINTR)) reaped = true;
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!reaped) {
      ::kill(h.pid, SIGKILL);
      while (::waitpid(h.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (signal) *signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    const std::string how = WIFSIGNALED(status) ? describe_signal(WTERMSIG(status))
                            : WIFEXITED(status) ? "helper exited with status " + std::to_string(WEXITSTATUS(status))
                                                : "helper lost";
    log("plugin '" + (name_.empty() ? opts_.plugin_path : name_) + "': helper process " + std::to_string(h.pid) +
        " ended (" + how + "); the next attempt starts a new one");
    return how;
  }

  /// Ends an idle helper: closing its socket makes it exit; it is killed if it lingers.
  void retire(helper& h) {
    if (h.fd >= 0) ::close(h.fd);
    h.fd = -1;
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      const pid_t r = ::waitpid(h.pid, &status, WNOHANG);
      if (r == h.pid || (r < 0 && errno != EINTR)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(h.pid, SIGKILL);
    while (::waitpid(h.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }

  options opts_;
  std::string name_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<helper>> idle_;
  std::map<std::string, running> running_;  ///< by job id
  std::size_t started_ = 0;
  bool has_executor_ = false;
  bool has_exporter_ = false;
};

}  // namespace queuectl
