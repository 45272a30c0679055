// The `prometheus` exporter: serves /metrics (default 127.0.0.1:9464, host option
// prometheus.bind, alias --metrics-bind) from counters fed by the host's attempt events and the queue snapshot
// the host takes on every heartbeat; a scrape never queries the database.
#include <memory>

#include "metrics_registry.hpp"
#include "metrics_server.hpp"
#include "queuectl/plugin/exporter_plugin.hpp"

namespace {

class prometheus_exporter final : public queuectl::exporter_plugin {
 public:
  std::string_view name() const noexcept override { return "prometheus"; }

 protected:
  std::string do_start(const queuectl::exporter_start_info& info) override {
    registry_ = std::make_unique<queuectl::prometheus::metrics_registry>(info.slots);
    const auto setting = [&](const char* key, const char* fallback) {
      auto it = info.settings.find(key);
      return it == info.settings.end() || it->second.empty() ? std::string(fallback) : it->second;
    };
    // Options (docs/plugins.md): bind (--metrics-bind; `metrics-bind` still accepted), token,
    // allowed-hosts (the host's --allowed-host list, comma-separated; docs/security.md).
    for (const auto& [key, _] : info.settings)
      if (key != "bind" && key != "token" && key != "metrics-bind" && key != "allowed-hosts")
        return "prometheus: unknown option '" + key + "' (known: bind, token, allowed-hosts)";
    server_ = std::make_unique<queuectl::prometheus::metrics_server>(
        [this] { return registry_->render(); }, setting("token", ""),
        queuectl::net::split_host_list(setting("allowed-hosts", "")));
    return server_->start(setting("bind", setting("metrics-bind", "127.0.0.1:9464").c_str()));
  }
  void do_attempt_started(const queuectl::attempt_event& e) override {
    if (registry_) registry_->attempt_started(e);
  }
  void do_attempt_finished(const queuectl::attempt_event& e) override {
    if (registry_) registry_->attempt_finished(e);
  }
  void do_snapshot(const queuectl::queue_snapshot& s) override {
    if (registry_) registry_->snapshot(s);
  }
  void do_stop() override {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<queuectl::prometheus::metrics_registry> registry_;
  std::unique_ptr<queuectl::prometheus::metrics_server> server_;
};

}  // namespace

QUEUECTL_EXPORTER_PLUGIN(prometheus_exporter)
