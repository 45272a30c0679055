// migrate: create or upgrade the database schema, as the role that owns it.
#include "cli.hpp"
#include "db_location.hpp"
#include "storage_backends.hpp"

namespace queuectl::cli {

int cmd_migrate(const globals& g, const args_t& args) {
  command_parser p(g, "migrate", "",
                   "Creates the queue's tables, or upgrades them to this queuectl's schema version, then\n"
                   "exits. Opening a database does the same when a migration is due, so this is needed\n"
                   "only where hosts and the CLI connect with a role that may not change the schema\n"
                   "(PostgreSQL, docs/deploy.md 'Roles and migrations'): run it once as the owner role\n"
                   "before starting hosts of a new version. Running it again changes nothing.");
  if (!p.parse(args)) return exit_ok;
  auto q = open_queue(p);  // migrates when due (throws, naming the reason, when it cannot)
  const int version = app::storage_backend_for(p.db()).schema_version();
  print("schema up to date (version " + std::to_string(version) + "): " + app::display_db(p.db()) +
        "\n");
  return exit_ok;
}

}  // namespace queuectl::cli
