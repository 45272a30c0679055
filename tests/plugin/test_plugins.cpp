// Plugins the loader tests need: each one is broken in a different way. The variant is
// picked with a compile definition (see CMakeLists.txt).
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "queuectl/plugin/executor_plugin.hpp"

namespace {
struct test_executor final : queuectl::executor_plugin {
  test_executor() {
#ifdef TEST_PLUGIN_FACTORY_THROWS
    throw std::runtime_error("cannot open config");
#endif
  }
  std::string_view name() const noexcept override { return "test"; }
  // `throw` throws out of run(): the guarded execute() must turn it into a failed attempt.
  queuectl::attempt_result run(const queuectl::job& j, const queuectl::execution_context&) override {
    if (j.command == "throw") throw std::runtime_error("disk on fire");
    if (j.command == "throw-int") throw 42;
    // `ignore-stop MS`: sleeps MS ms heeding neither ctx.timeout nor ctx.stop; the worker
    // must enforce the job's timeout itself (tests/e2e/host_timeout_plugin.sh).
    if (j.command.rfind("ignore-stop ", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(j.command.substr(12))));
      return queuectl::attempt_result::ok();
    }
    return queuectl::attempt_result::ok();
  }
  std::string check(const queuectl::job_spec& s) const override {
    if (s.command == "check-throws") throw std::logic_error("validator bug");
    return {};
  }
};
}  // namespace

#if defined(TEST_PLUGIN_WRONG_ABI)
namespace wrong_abi {
inline int abi_version() { return QUEUECTL_PLUGIN_ABI_VERSION + 41; }
inline const char* toolchain() { return QUEUECTL_PLUGIN_TOOLCHAIN; }
inline queuectl::executor_plugin* create(std::string&) noexcept { return new test_executor(); }
}  // namespace wrong_abi
BOOST_DLL_ALIAS(wrong_abi::abi_version, queuectl_plugin_abi_version)
BOOST_DLL_ALIAS(wrong_abi::toolchain, queuectl_plugin_toolchain)
BOOST_DLL_ALIAS(wrong_abi::create, queuectl_executor_factory)
#elif defined(TEST_PLUGIN_NO_FACTORY)
namespace no_factory {
inline int abi_version() { return QUEUECTL_PLUGIN_ABI_VERSION; }
inline const char* toolchain() { return QUEUECTL_PLUGIN_TOOLCHAIN; }
}  // namespace no_factory
BOOST_DLL_ALIAS(no_factory::abi_version, queuectl_plugin_abi_version)
BOOST_DLL_ALIAS(no_factory::toolchain, queuectl_plugin_toolchain)
#elif defined(TEST_PLUGIN_FACTORY_NULL)
namespace null_factory {
inline int abi_version() { return QUEUECTL_PLUGIN_ABI_VERSION; }
inline const char* toolchain() { return QUEUECTL_PLUGIN_TOOLCHAIN; }
inline queuectl::executor_plugin* create(std::string&) noexcept { return nullptr; }
}  // namespace null_factory
BOOST_DLL_ALIAS(null_factory::abi_version, queuectl_plugin_abi_version)
BOOST_DLL_ALIAS(null_factory::toolchain, queuectl_plugin_toolchain)
BOOST_DLL_ALIAS(null_factory::create, queuectl_executor_factory)
#elif defined(TEST_PLUGIN_NOT_A_PLUGIN)
extern "C" BOOST_SYMBOL_EXPORT int some_other_library_function() { return 1; }
#else
QUEUECTL_EXECUTOR_PLUGIN(test_executor)
#endif
