// The worker runtime shared by queuectl-host and `queuectl worker start`: the options are
// checked here, the run itself is a host_session (host_session.hpp).
#include "runtime.hpp"

#include <cstdio>

#include "host_log.hpp"
#include "host_session.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/error.hpp"

namespace queuectl::app {

namespace {

/// The options no step needs to try: one line on stderr and false when they are wrong.
bool options_ok(const runtime_options& opts) {
  if (!bounds::worker_slots.contains(opts.workers)) {
    std::fprintf(stderr, "queuectl: --workers must be between 1 and 1024, got %d\n", opts.workers);
    return false;
  }
  if (opts.log_format != "text" && opts.log_format != "json") {
    std::fprintf(stderr, "queuectl: --log-format must be text or json, got '%s'\n",
                 printable_line(opts.log_format).c_str());
    return false;
  }
  if (opts.quiet && opts.echo_output) {
    std::fprintf(stderr, "queuectl: give either --quiet or --echo-output, not both\n");
    return false;
  }
  return true;
}

}  // namespace

int run_runtime(const runtime_options& opts) {
  if (!options_ok(opts)) return 2;
  use_json_log(opts.log_format == "json");
  const attempt_log attempts(opts.echo_output);
  storage_trouble_log trouble;  // outlives the session: it decides the exit code
  try {
    host_session session(opts, opts.quiet ? nullptr : &attempts, trouble);
    session.run();
  } catch (const start_failure& f) {
    return f.exit_code;
  }
  log_line("stopped");
  return trouble.gave_up() ? 1 : 0;
}

}  // namespace queuectl::app
