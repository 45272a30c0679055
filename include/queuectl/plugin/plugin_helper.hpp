/// @file
/// @brief The helper-process side of plugin isolation (docs/plugins.md, "Isolation"): a
/// host re-executes itself as `<exe> --plugin-helper`, with one end of a socketpair as fd 3;
/// the helper loads one executor plugin and runs the attempts the host sends it, one at a
/// time. If the plugin crashes, only the helper dies.
///
/// A host program enables it with two lines at the top of `main`:
/// @code
/// if (queuectl::is_plugin_helper_invocation(argc, argv)) return queuectl::run_plugin_helper();
/// @endcode
#pragma once

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "queuectl/plugin/detail/helper_protocol.hpp"
#include "queuectl/plugin/loader.hpp"

namespace queuectl {

/// The hidden command-line switch that turns a host binary into a plugin helper.
inline constexpr std::string_view plugin_helper_switch = "--plugin-helper";
/// The descriptor the helper talks to its host on.
inline constexpr int plugin_helper_fd = 3;

inline bool is_plugin_helper_invocation(int argc, char** argv) {
  return argc >= 2 && std::string_view(argv[1]) == plugin_helper_switch;
}

namespace detail {

/// Requests read from the host, handed to the thread that runs them. The reader applies
/// `stop` frames itself, to the attempt the latest `run` started, so a stop reaches a
/// running attempt at once.
class helper_inbox {
 public:
  struct request {
    rapidjson::Document doc;
    std::stop_token stop;
  };

  /// Reads frames until the host goes away, then ends the process (whatever runs dies
  /// with it: the host has already given up on it).
  void read_forever(int fd) {
    while (auto body = helper_wire::read_frame(fd)) {
      auto doc = helper_wire::parse(*body);
      if (!doc) break;
      const std::string op = (*doc)["op"].GetString();
      std::lock_guard lock(mu_);
      if (op == "stop") {
        current_.request_stop();
        continue;
      }
      if (op == "run") current_ = std::stop_source();
      requests_.push_back(request{std::move(*doc), current_.get_token()});
      cv_.notify_one();
    }
    ::_exit(0);
  }

  request next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !requests_.empty(); });
    request r = std::move(requests_.front());
    requests_.pop_front();
    return r;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<request> requests_;
  std::stop_source current_;
};

inline void close_other_fds() {
  // The helper needs only 0-2 and its socket; fds the host leaked without O_CLOEXEC must
  // not keep anything of the host's open.
  for (int fd = plugin_helper_fd + 1; fd < 1024; ++fd) ::close(fd);
}

}  // namespace detail

/// Runs the helper on fd 3: first frame `load` {path} → `ready` {name, executor, exporter}
/// or `error` {id, error}; then `configure` {settings} → `configured` {error}, `run` {job,
/// attempt, timeout, started_at, worker} → `result` {result}, `check` {spec} → `checked`
/// {error}, and `stop` (no reply) while a run is in progress. Exits when the host closes
/// its end (or dies).
inline int run_plugin_helper() {
  namespace w = detail::helper_wire;
  detail::close_other_fds();
  const int fd = plugin_helper_fd;
  std::shared_ptr<executor_plugin> plugin;
  {
    auto body = w::read_frame(fd);
    auto doc = body ? w::parse(*body) : std::nullopt;
    if (!doc || std::string_view((*doc)["op"].GetString()) != "load") return 2;
    std::string id, why, name;
    bool exporter = false;
    try {
      auto loaded = plugin_loader().load(w::str(*doc, "path"));
      plugin = loaded.executor;
      exporter = loaded.exporter != nullptr;
      name = plugin ? std::string(plugin->name()) : std::string(loaded.exporter->name());
    } catch (const error& e) {
      id = e.id();
      why = e.message();
    } catch (const std::exception& e) {
      id = "queuectl.plugin.not_loadable";
      why = e.what();
    }
    const std::string reply = why.empty() ? w::message("ready",
                                                       [&](w::writer& wr) {
                                                         w::put(wr, "name", name);
                                                         wr.Key("executor"), wr.Bool(plugin != nullptr);
                                                         wr.Key("exporter"), wr.Bool(exporter);
                                                       })
                                          : w::message("error", [&](w::writer& wr) {
                                              w::put(wr, "id", id);
                                              w::put(wr, "error", why);
                                            });
    if (!w::write_frame(fd, reply) || !why.empty()) return 2;
    if (!plugin) {  // an exporter only: the host runs it itself and closes this helper
      while (w::read_frame(fd)) {
      }
      return 0;
    }
  }
  detail::helper_inbox inbox;
  std::thread reader([&] { inbox.read_forever(fd); });
  reader.detach();  // ends the process when the host goes
  while (true) {
    auto req = inbox.next();
    const std::string_view op = req.doc["op"].GetString();
    std::string reply;
    if (op == "run") {
      execution_context ctx;
      ctx.stop = req.stop;
      ctx.worker = w::str(req.doc, "worker");
      ctx.attempt = static_cast<int>(w::num(req.doc, "attempt"));
      ctx.timeout = w::dbl(req.doc, "timeout");
      ctx.started_at = from_ms(w::num(req.doc, "started_at"));
      const job j = req.doc.HasMember("job") ? w::get_job(req.doc["job"]) : job{};
      const attempt_result r = plugin->execute(j, ctx);
      reply = w::message("result", [&](w::writer& wr) { w::put_result(wr, "result", r); });
    } else if (op == "configure") {
      const std::string why = plugin->configure(w::get_map(req.doc, "settings"));
      reply = w::message("configured", [&](w::writer& wr) { w::put(wr, "error", why); });
    } else if (op == "check") {
      const job_spec s = req.doc.HasMember("spec") ? w::get_spec(req.doc["spec"]) : job_spec{};
      const std::string why = plugin->validate(s);
      reply = w::message("checked", [&](w::writer& wr) { w::put(wr, "error", why); });
    } else {
      reply = w::message("unknown");
    }
    if (!w::write_frame(fd, reply)) return 0;
  }
}

}  // namespace queuectl
