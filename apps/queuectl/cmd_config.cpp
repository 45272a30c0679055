// config get [KEY], config set KEY VALUE, config reset.
#include "cli.hpp"
#include "output.hpp"
#include "queuectl/queue_config.hpp"

namespace queuectl::cli {

namespace {

std::string keys_help() {
  std::string o = "Keys (either spelling: max-retries or max_retries):\n";
  for (const auto& [k, about] : queue_config::keys()) o += "  " + k + std::string(22 - k.size(), ' ') + about + "\n";
  return o;
}

int config_get(const globals& g, const args_t& args) {
  command_parser p(g, "config get", "[KEY] [--json]",
                   "Prints one setting's value, or every setting (KEY VALUE, '(default)' when not set).\n\n" +
                       keys_help());
  p.positional("key").json();
  if (!p.parse(args)) return exit_ok;
  std::optional<std::string> key;
  if (p.has("key")) key = queue_config::normalize_key(p.get<std::string>("key"));  // unknown key → exit 2
  auto q = open_queue_for_reading(p);
  const queue_config c = q->config();
  const auto stored = q->storage().config_entries();
  std::vector<app::config_entry> entries;
  for (const auto& [k, _] : queue_config::keys())
    if (!key || *key == k) entries.push_back({k, c.get(k), stored.count(k) > 0});
  if (p.json_output()) print(app::config_json(entries) + "\n");
  else if (key) print(entries.front().value + "\n");
  else print(app::config_text(entries));
  return exit_ok;
}

int config_set(const globals& g, const args_t& args) {
  command_parser p(g, "config set", "KEY VALUE",
                   "Validates and stores one setting; workers pick it up on their next tick.\n"
                   "A bad key or value exits 2 and stores nothing.\n\n" +
                       keys_help());
  p.positional("key").positional("value");
  if (!p.parse(args)) return exit_ok;
  const std::string key = p.required("key");
  const std::string value = p.required("value");
  queue_config check;
  const std::string k = check.set(key, value);  // validated before the database is opened
  auto q = open_queue(p);
  q->set_config(k, value);
  print(k + " = " + q->config().get(k) + "\n");
  return exit_ok;
}

int config_reset(const globals& g, const args_t& args) {
  command_parser p(g, "config reset", "", "Drops every stored setting: all keys return to their defaults.");
  if (!p.parse(args)) return exit_ok;
  auto q = open_queue(p);
  q->reset_config();
  print("config reset to defaults\n");
  return exit_ok;
}

}  // namespace

int cmd_config(const globals& g, const args_t& args) {
  static const std::vector<subcommand> subs = {
      {"get", "print one setting, or all of them [--json]", config_get},
      {"set", "store a setting (validated)", config_set},
      {"reset", "return every setting to its default", config_reset},
  };
  return dispatch_group(g, "config", subs, args);
}

}  // namespace queuectl::cli
