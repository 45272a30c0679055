/// @file
/// @brief The interface an exporter plugin (metrics, tracing) implements, and its export macro.
///
/// Exporters do not run jobs: the host pushes events to them (an attempt started, an
/// attempt finished, a periodic snapshot of the queue), so serving a scrape never touches
/// the database. Same ABI rules as executors (see docs/plugins.md): same toolchain, no
/// exception crosses the boundary, objects are destroyed while the library is loaded.
#pragma once

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include <cstddef>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "queuectl/job.hpp"
#include "queuectl/plugin/abi.hpp"
#include "queuectl/plugin/detail/exports.hpp"
#include "queuectl/storage_types.hpp"

namespace queuectl {

/// @brief What the host tells an exporter when it starts it.
struct exporter_start_info {
  std::string host_id;  ///< the host's worker registry id (host:pid:suffix)
  int slots = 0;        ///< worker slots of this host
  /// This plugin's own options (`--plugin-opt NAME.KEY=VALUE`, keys without `NAME.`), plus
  /// the host's `--token` as `token` unless the plugin was given its own.
  std::map<std::string, std::string> settings;
};

/// @brief One attempt, as seen by the host's worker slot.
struct attempt_event {
  std::string job_id;
  std::string queue;
  std::string executor;
  int attempt = 0;
  time_point due_at{};      ///< when the job became runnable (run_at at claim time)
  time_point started_at{};
  time_point finished_at{};  ///< only in on_attempt_finished
  /// succeeded, failed, timed_out or released (handed back unattempted at a forced stop);
  /// `running` in on_attempt_started.
  attempt_outcome outcome = attempt_outcome::running;
  bool permanent = false;  ///< the executor said retrying cannot help
};

/// @brief Periodic picture of the queue and of this host's slots.
struct queue_snapshot {
  struct per_queue {
    std::string queue;
    state_counts counts{};
  };
  std::vector<per_queue> queues;
  std::size_t busy_slots = 0;
  std::size_t total_slots = 0;
};

/// @brief An exporter loaded from a shared library.
///
/// The host calls the public members; a plugin overrides the protected `do_*` hooks,
/// which may throw: the public members are defined here, so they are compiled into the
/// plugin and catch everything on the plugin's side of the boundary. Event hooks are
/// called from worker threads concurrently and must be cheap and thread-safe.
class BOOST_SYMBOL_VISIBLE exporter_plugin {
 public:
  virtual ~exporter_plugin() = default;
  virtual std::string_view name() const noexcept = 0;

  /// Starts serving; returns an empty string, or a one-line reason it cannot start.
  virtual std::string start(const exporter_start_info& info) noexcept {
    try {
      return do_start(info);
    } catch (const std::exception& e) {
      return std::string(name()) + ": " + e.what();
    } catch (...) {
      return std::string(name()) + ": start failed";
    }
  }
  virtual void attempt_started(const attempt_event& e) noexcept { guarded([&] { do_attempt_started(e); }); }
  virtual void attempt_finished(const attempt_event& e) noexcept { guarded([&] { do_attempt_finished(e); }); }
  virtual void snapshot(const queue_snapshot& s) noexcept { guarded([&] { do_snapshot(s); }); }
  /// Stops serving; called before the object is destroyed.
  virtual void stop() noexcept { guarded([&] { do_stop(); }); }

 protected:
  virtual std::string do_start(const exporter_start_info&) { return {}; }
  virtual void do_attempt_started(const attempt_event&) {}
  virtual void do_attempt_finished(const attempt_event&) {}
  virtual void do_snapshot(const queue_snapshot&) {}
  virtual void do_stop() {}

 private:
  template <class F>
  static void guarded(F&& f) noexcept {
    try {
      f();
    } catch (...) {  // an exporter's trouble must never reach a worker thread
    }
  }
};

namespace plugin_abi {
inline constexpr const char* exporter_factory_symbol = "queuectl_exporter_factory";
/// The exported factory: a new exporter, or nullptr with `error` set.
using exporter_factory_fn = exporter_plugin*(std::string& error);
}  // namespace plugin_abi

}  // namespace queuectl

/// Exports `PluginClass` (default-constructible, derived from queuectl::exporter_plugin)
/// with the ABI version and toolchain tag. Use once per plugin library, at namespace scope.
#define QUEUECTL_EXPORTER_PLUGIN(PluginClass) \
  QUEUECTL_DETAIL_EXPORT_PLUGIN(PluginClass, ::queuectl::exporter_plugin, queuectl_exporter_factory)
