// dashboard: serve the web dashboard and the REST API until SIGINT/SIGTERM.
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cli.hpp"
#include "queuectl/net/request_guard.hpp"
#include "web_service.hpp"
#include "worker_slots.hpp"

namespace queuectl::cli {

int cmd_dashboard(const globals& g, const args_t& args) {
  command_parser p(g, "dashboard", "[--bind 127.0.0.1:8080] [--token T] [--allowed-host NAME]...",
                   "Serves the web dashboard and its REST API (described at /openapi.json) until Ctrl-C.\n"
                   "Binding anything but a loopback address needs a token (--token or QUEUECTL_TOKEN);\n"
                   "with a token, every /api call needs the header 'Authorization: Bearer T' and the page\n"
                   "asks for it once. Requests whose Host is not localhost, 127.0.0.1, [::1], the bound\n"
                   "address or an --allowed-host name are refused (421). The first line printed is the URL to open.");
  p.options()("bind", po::value<std::string>()->value_name("HOST:PORT")->default_value("127.0.0.1:8080"),
              "address to listen on (port 0: any free port)")(
      "token", po::value<std::string>()->value_name("T"), "bearer token the API requires (default $QUEUECTL_TOKEN)")(
      "read-timeout", po::value<double>()->value_name("S"), "seconds a client has to send a whole request (default 10)")(
      "allowed-host", po::value<std::vector<std::string>>()->value_name("NAME")->composing(),
      "also answer requests for this host name (e.g. a reverse proxy's); repeatable (and $QUEUECTL_ALLOWED_HOSTS)");
  if (!p.parse(args)) return exit_ok;

  web::web_options o;
  o.bind = p.get<std::string>("bind");
  if (auto t = p.maybe<std::string>("token")) {
    if (t->empty()) throw usage_error("--token: empty token");
    o.token = *t;
  } else if (const char* env = std::getenv("QUEUECTL_TOKEN"); env && *env) {
    o.token = env;
  }
  o.allowed_hosts = net::allowed_hosts(p.maybe<std::vector<std::string>>("allowed-host").value_or(std::vector<std::string>{}));
  if (auto s = p.maybe<double>("read-timeout")) {
    if (!std::isfinite(*s) || *s <= 0 || *s > 3600) throw usage_error("--read-timeout must be between 0 and 3600 seconds");
    o.read_timeout = std::chrono::milliseconds(static_cast<long long>(*s * 1000));
  }

  // Signals are taken by this thread; the server's threads inherit the blocked mask.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // /worker/start runs worker slots in this process (docs/dashboard.md).
  const std::string db = p.db();
  o.make_workers = [db](app::host_queue& q) { return app::on_demand_workers(q, db); };
  auto service = web::start_web_service(db, o);
  print("queuectl dashboard: serving " + service->url() + " (Ctrl-C to stop)\n");
  std::fflush(stdout);
  int sig = 0;
  while (sigwait(&stop, &sig) != 0) {
  }
  service.reset();
  return exit_ok;
}

}  // namespace queuectl::cli
