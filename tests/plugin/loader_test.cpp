// The plugin loader: found by name and by path; each kind of broken plugin gets its own error.
#include <boost/test/unit_test.hpp>

#include "printers.hpp"
#include "queuectl/plugin/loader.hpp"
#include "queuectl/plugin/plugin_executor.hpp"

using namespace queuectl;

namespace {
std::string broken(const std::string& variant) {
  return std::string(QUEUECTL_TEST_BROKEN_DIR) + "/libqueuectl_test_" + variant + ".so";
}
/// The error id a load attempt fails with ("" if it loads).
std::string load_error(const std::string& what) {
  try {
    plugin_loader({QUEUECTL_TEST_PLUGIN_DIR}).load_executor(what);
    return "";
  } catch (const error& e) {
    BOOST_TEST(e.kind() == error_kind::invalid_input);
    BOOST_TEST(std::string(e.what()).find('\n') == std::string::npos);
    BOOST_TEST_MESSAGE(e.what());
    return e.id();
  }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(loader)

BOOST_AUTO_TEST_CASE(loads_by_name_and_by_path) {
  plugin_loader loader({QUEUECTL_TEST_PLUGIN_DIR});
  auto shell = loader.load_executor("shell");
  BOOST_TEST(shell->name() == "shell");
  auto by_path = loader.load_executor(std::string(QUEUECTL_TEST_PLUGIN_DIR) + "/libqueuectl_shell.so");
  BOOST_TEST(by_path->name() == "shell");
  BOOST_TEST(loader.load_executor(broken("good"))->name() == "test");
}

BOOST_AUTO_TEST_CASE(plugin_path_environment_is_searched) {
  ::setenv("QUEUECTL_PLUGIN_PATH", "/nonexistent:" QUEUECTL_TEST_BROKEN_DIR, 1);
  plugin_loader loader;
  ::unsetenv("QUEUECTL_PLUGIN_PATH");
  BOOST_TEST(loader.load_executor("test_good")->name() == "test");
}

BOOST_AUTO_TEST_CASE(each_failure_has_its_own_error) {
  BOOST_TEST(load_error("no-such-plugin") == "queuectl.plugin.not_found");
  BOOST_TEST(load_error("/no/such/file.so") == "queuectl.plugin.not_found");
  BOOST_TEST(load_error(std::string(QUEUECTL_TEST_BROKEN_DIR) + "/libqueuectl_text.so") == "queuectl.plugin.not_loadable");
  BOOST_TEST(load_error(broken("not_a_plugin")) == "queuectl.plugin.not_a_plugin");
  BOOST_TEST(load_error(broken("wrong_abi")) == "queuectl.plugin.abi_mismatch");
  BOOST_TEST(load_error(broken("no_factory")) == "queuectl.plugin.no_factory");
  BOOST_TEST(load_error(broken("factory_null")) == "queuectl.plugin.factory_failed");
  BOOST_TEST(load_error(broken("factory_throws")) == "queuectl.plugin.factory_threw");
}

BOOST_AUTO_TEST_CASE(library_stays_loaded_while_an_object_lives) {
  std::shared_ptr<executor_plugin> p;
  {
    plugin_loader loader({QUEUECTL_TEST_PLUGIN_DIR});
    p = loader.load_executor(broken("good"));
  }  // the loader is gone; the object's vtable lives in the library
  BOOST_TEST(p->name() == "test");
  BOOST_TEST(p->execute(job{}, execution_context{}).success);
}

BOOST_AUTO_TEST_CASE(an_exception_in_a_plugin_fails_that_attempt_only) {
  plugin_loader loader({QUEUECTL_TEST_PLUGIN_DIR});
  const auto p = loader.load_executor(broken("good"));
  job j;
  j.command = "throw";
  auto r = p->execute(j, execution_context{});
  BOOST_TEST(!r.success);
  BOOST_TEST(!r.permanent);
  BOOST_TEST(r.error == "test executor threw: disk on fire");
  j.command = "throw-int";
  r = p->execute(j, execution_context{});
  BOOST_TEST(r.error == "test executor threw an unknown exception");
  j.command = "fine";
  BOOST_TEST(p->execute(j, execution_context{}).success);  // the plugin is still usable
  job_spec s;
  s.command = "check-throws";
  BOOST_TEST(p->validate(s) == "test executor could not check the job: validator bug");
}

BOOST_AUTO_TEST_CASE(plugin_executor_dispatches_by_name) {
  plugin_executor exec;
  plugin_loader loader({QUEUECTL_TEST_PLUGIN_DIR});
  exec.add(loader.load_executor("shell"));
  exec.add(loader.load_executor(broken("good")));
  BOOST_CHECK_THROW(exec.add(loader.load_executor("shell")), error);  // duplicate name
  job j;
  j.executor = "test";
  BOOST_TEST(exec.execute(j, {}).success);
  j.executor = "shell";
  j.command = "exit 4";
  BOOST_TEST((exec.execute(j, {}).exit_code == 4));
  j.executor = "missing";
  const auto r = exec.execute(j, {});
  BOOST_TEST(!r.success);
  BOOST_TEST(r.permanent);
  BOOST_TEST(r.error.find("missing") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
