// A stand-alone plugin helper for the isolation tests (the apps re-execute themselves
// with --plugin-helper instead).
#include "queuectl/plugin/plugin_helper.hpp"

int main(int argc, char** argv) {
  if (queuectl::is_plugin_helper_invocation(argc, argv)) return queuectl::run_plugin_helper();
  return 2;
}
