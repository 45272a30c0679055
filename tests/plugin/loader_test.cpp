// The plugin loader: found by name and by path; each kind of broken plugin gets its own error.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

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

namespace {
/// A fresh directory under the temp dir, removed at the end of the test.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "queuectl-loader-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / plugin_loader::file_name(name)).string(); }
};
/// The error a load fails with, by path and (through the search path) by name; both
/// must agree and come back within a few seconds (a FIFO must never block).
std::string load_error_bounded(const temp_dir& d, const std::string& name) {
  auto by_path = std::async(std::launch::async, [&] { return load_error(d.file(name)); });
  BOOST_REQUIRE(by_path.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  auto by_name = std::async(std::launch::async, [&] {
    try {
      plugin_loader({d.path.string()}).load(name);
      return std::string();
    } catch (const error& e) {
      return e.id();
    }
  });
  BOOST_REQUIRE(by_name.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const std::string id = by_path.get();
  BOOST_TEST(by_name.get() == id);
  return id;
}
}  // namespace

// Regression: the first 3,000 bytes of a real plugin crashed the process with SIGBUS in
// dlopen; a FIFO named like a plugin blocked the loader forever.
BOOST_AUTO_TEST_CASE(special_and_truncated_files_are_refused_before_dlopen) {
  temp_dir d;
  {
    std::ifstream in(std::string(QUEUECTL_TEST_PLUGIN_DIR) + "/libqueuectl_shell.so", std::ios::binary);
    std::string head(3000, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    BOOST_REQUIRE(in.gcount() == 3000);
    std::ofstream(d.file("truncated"), std::ios::binary).write(head.data(), 3000);
    std::ofstream(d.file("header_only"), std::ios::binary).write(head.data(), 40);
    // Without a section header table only the segments' sizes tell the truncation.
    detail::elf_ehdr eh;
    std::memcpy(&eh, head.data(), sizeof eh);
    eh.e_shoff = 0;
    eh.e_shnum = 0;
    eh.e_shstrndx = 0;
    std::memcpy(head.data(), &eh, sizeof eh);
    std::ofstream(d.file("no_sections"), std::ios::binary).write(head.data(), 3000);
  }
  BOOST_REQUIRE(::mkfifo(d.file("fifo").c_str(), 0600) == 0);
  std::filesystem::create_directory(d.file("dir"));
  std::filesystem::create_symlink(d.file("loop"), d.file("loop"));
  std::filesystem::create_symlink("/dev/null", d.file("device"));
  std::filesystem::create_symlink(d.path / "nowhere", d.file("dangling"));
  std::ofstream(d.file("empty")).close();

  BOOST_TEST(load_error_bounded(d, "truncated") == "queuectl.plugin.truncated");
  BOOST_TEST(load_error_bounded(d, "header_only") == "queuectl.plugin.truncated");
  BOOST_TEST(load_error_bounded(d, "no_sections") == "queuectl.plugin.truncated");
  BOOST_TEST(load_error_bounded(d, "fifo") == "queuectl.plugin.not_a_file");
  BOOST_TEST(load_error_bounded(d, "dir") == "queuectl.plugin.not_a_file");
  BOOST_TEST(load_error_bounded(d, "loop") == "queuectl.plugin.not_a_file");
  BOOST_TEST(load_error_bounded(d, "device") == "queuectl.plugin.not_a_file");
  BOOST_TEST(load_error_bounded(d, "dangling") == "queuectl.plugin.not_found");
  BOOST_TEST(load_error_bounded(d, "empty") == "queuectl.plugin.not_loadable");
  // Each says what it is.
  const auto message = [&](const std::string& name) {
    try {
      plugin_loader().load(d.file(name));
    } catch (const error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  BOOST_TEST(message("fifo").find("a FIFO") != std::string::npos);
  BOOST_TEST(message("dir").find("a directory") != std::string::npos);
  BOOST_TEST(message("loop").find("symbolic link loop") != std::string::npos);
  BOOST_TEST(message("device").find("a character device") != std::string::npos);
  BOOST_TEST(message("truncated").find("past the file's end") != std::string::npos);
  BOOST_TEST(message("no_sections").find("segment") != std::string::npos);
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
