// A plugin whose check() lacks `const` declares a new function that hides the hook the
// host calls; with the flags queuectl_add_plugin uses (QUEUECTL_PLUGIN_WARNING_FLAGS) it
// must not compile. Without QUEUECTL_COMPILE_FAIL_CASE the hook is declared correctly.
#include "queuectl/plugin/executor_plugin.hpp"

struct sloppy_plugin final : queuectl::executor_plugin {
  std::string_view name() const noexcept override { return "sloppy"; }
  queuectl::attempt_result run(const queuectl::job&, const queuectl::execution_context&) override {
    return queuectl::attempt_result::ok();
  }
#ifdef QUEUECTL_COMPILE_FAIL_CASE
  std::string check(const queuectl::job_spec&) { return "never called"; }
#else
  std::string check(const queuectl::job_spec&) const override { return {}; }
#endif
};
QUEUECTL_EXECUTOR_PLUGIN(sloppy_plugin)
