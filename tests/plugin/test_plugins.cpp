// Plugins the loader tests need: each one is broken in a different way. The variant is
// picked with a compile definition (see CMakeLists.txt).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "queuectl/plugin/executor_plugin.hpp"

namespace {
// Dies by SIGSEGV the way a crashing plugin does, also in sanitized builds: ASan installs
// its own SIGSEGV handler, which would report and exit with status 1 instead.
[[noreturn]] void crash_with_sigsegv() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGSEGV, &dfl, nullptr);
  std::raise(SIGSEGV);
  std::abort();
}

struct test_executor final : queuectl::executor_plugin {
  test_executor() {
#ifdef TEST_PLUGIN_FACTORY_THROWS
    throw std::runtime_error("cannot open config");
#endif
  }
  std::string_view name() const noexcept override { return "test"; }
  // `throw` throws out of run(): the guarded execute() must turn it into a failed attempt.
  // `segv` crashes the process (isolation tests); `pid` reports which process ran it;
  // `wait-stop` runs until ctx.stop; `hang` ignores ctx.stop for 30 s; `greeting` prints
  // the `greeting` option.
  queuectl::attempt_result run(const queuectl::job& j, const queuectl::execution_context& ctx) override {
    if (j.command == "throw") throw std::runtime_error("disk on fire");
    if (j.command == "throw-int") throw 42;
    if (j.command == "segv") crash_with_sigsegv();
    auto r = queuectl::attempt_result::ok();
    if (j.command == "pid") r.output = std::to_string(::getpid());
    if (j.command == "greeting") r.output = greeting_;
    if (j.command == "wait-stop" || j.command == "hang") {
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (std::chrono::steady_clock::now() < end && (j.command == "hang" || !ctx.stop.stop_requested()))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (ctx.stop.stop_requested()) return queuectl::attempt_result::failure("stopped on request");
    }
    // `ignore-stop MS`: sleeps MS ms heeding neither ctx.timeout nor ctx.stop; the worker
    // must enforce the job's timeout itself (tests/e2e/host_timeout_plugin.sh).
    if (j.command.rfind("ignore-stop ", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(j.command.substr(12))));
      return r;
    }
    return r;
  }
  std::string check(const queuectl::job_spec& s) const override {
    if (s.command == "check-throws") throw std::logic_error("validator bug");
    if (s.command == "check-segv") crash_with_sigsegv();
    if (s.command == "check-reject") return "test executor refuses " + s.id;
    return {};
  }
  std::string setup(const std::map<std::string, std::string>& settings) override {
    for (const auto& [k, v] : settings) {
      if (k != "greeting") return "test: unknown option '" + k + "' (known: greeting)";
      greeting_ = v;
    }
    return {};
  }
  std::string greeting_ = "hello";
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
