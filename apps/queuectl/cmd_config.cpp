// config get [KEY], config show, config set KEY VALUE | --KEY VALUE..., config reset.
#include <algorithm>
#include <cmath>

#include "cli.hpp"
#include "json_output.hpp"
#include "snapshots.hpp"
#include "text_views.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/queue_config.hpp"

namespace queuectl::cli {

namespace {

std::string keys_help() {
  std::string o = "Keys (either spelling: max-retries or max_retries):\n";
  for (const auto& [k, about] : queue_config::keys()) o += "  " + k + std::string(22 - k.size(), ' ') + about + "\n";
  return o;
}

/// Prints one setting (`key`) or all of them: `config get`, `config show`.
int print_config(const command_parser& p, const std::optional<std::string>& key) {
  auto q = open_queue_for_reading(p);
  const auto view = q->read_config();
  const queue_config& c = view.values;
  const auto& stored = view.stored;
  std::vector<app::config_entry> entries;
  for (const auto& [k, _] : queue_config::keys())
    if (!key || *key == k) entries.push_back({k, c.get(k), stored.count(k) > 0});
  if (p.json_output()) print(app::config_json(entries) + "\n");
  else if (key) print(entries.front().value + "\n");
  else print(app::config_text(entries));
  return exit_ok;
}

int config_get(const globals& g, const args_t& args) {
  command_parser p(g, "config get", "[KEY] [--json]",
                   "Prints one setting's value, or every setting (KEY VALUE, '(default)' when not set).\n\n" +
                       keys_help());
  p.positional("key").json();
  if (!p.parse(args)) return exit_ok;
  std::optional<std::string> key;
  if (p.has("key")) key = queue_config::normalize_key(p.get<std::string>("key"));  // unknown key → exit 2
  return print_config(p, key);
}

int config_show(const globals& g, const args_t& args) {
  command_parser p(g, "config show", "[--json]",
                   "Prints every setting, as 'config get' without a KEY does (KEY VALUE, '(default)' when not set).");
  p.json();
  if (!p.parse(args)) return exit_ok;
  return print_config(p, std::nullopt);
}

/// `config set --job-lease-ms N`: lease-seconds in whole milliseconds, within its bounds.
std::string lease_seconds_from_ms(const std::string& ms) {
  const auto n = parse_number_text(ms);
  const number_bound& b = bounds::lease_seconds;
  if (!n || std::floor(*n) != *n || !b.contains(*n / 1000.0))
    throw usage_error("--job-lease-ms: '" + ms + "' is not an integer number of milliseconds from " +
                      number_bound::format(b.min * 1000) + " to " + number_bound::format(b.max * 1000));
  return number_bound::format(*n / 1000.0);
}

int config_set(const globals& g, const args_t& args) {
  command_parser p(g, "config set", "KEY VALUE | --KEY VALUE...",
                   "Validates and stores one setting (KEY VALUE), or several given as flags\n"
                   "(config set --max-retries 1 --backoff-base 3 --job-lease-ms 10000); workers pick them\n"
                   "up on their next tick. Every value is checked before anything is stored: a bad key or\n"
                   "value exits 2 and stores nothing. Prints 'KEY = VALUE' per setting stored.\n\n" +
                       keys_help());
  p.positional("key").positional("value");
  // One flag per key (either spelling; the underscore one is not listed).
  std::vector<std::string> underscored;
  for (const auto& [k, about] : queue_config::keys()) {
    std::string u = k;
    std::replace(u.begin(), u.end(), '-', '_');
    p.options()(k.c_str(), po::value<std::string>()->value_name("VALUE"), about.c_str());
    p.hidden_options()(u.c_str(), po::value<std::string>());
    underscored.push_back(u);
  }
  p.options()("job-lease-ms", po::value<std::string>()->value_name("MS"), "lease-seconds in milliseconds (10000 = 10 s)");
  p.hidden_options()("job_lease_ms", po::value<std::string>());
  if (!p.parse(args)) return exit_ok;

  // Which keys the flags set, each once, in the order of keys().
  std::vector<std::pair<std::string, std::string>> settings;
  std::size_t i = 0;
  for (const auto& [k, _] : queue_config::keys()) {
    std::vector<std::pair<std::string, std::string>> given;  // flag, value
    for (const std::string& flag : {k, underscored[i++]})
      if (p.has(flag.c_str())) given.emplace_back(flag, p.get<std::string>(flag.c_str()));
    if (k == "lease-seconds")
      for (const char* flag : {"job-lease-ms", "job_lease_ms"})
        if (p.has(flag)) given.emplace_back(flag, lease_seconds_from_ms(p.get<std::string>(flag)));
    if (given.size() > 1) throw usage_error(k + " given twice (--" + given[0].first + " and --" + given[1].first + ")");
    if (!given.empty()) settings.emplace_back(k, given[0].second);
  }
  if (!settings.empty() && (p.has("key") || p.has("value")))
    throw usage_error("give either KEY VALUE or --KEY VALUE flags, not both");
  if (settings.empty()) {
    std::string key = p.required("key");  // "missing key" before "missing value"
    settings.emplace_back(std::move(key), p.required("value"));
  }

  queue_config check;
  for (auto& [key, value] : settings) key = check.set(key, value);  // all validated before the database is opened
  auto q = open_queue(p);
  std::string out;
  for (const std::string& k : q->set_config(settings))  // one transaction: all stored or none
    out += k + " = " + q->config().get(k) + "\n";
  print(out);
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
      {"show", "print every setting [--json] (= get without KEY)", config_show},
      {"set", "store a setting, or several: --KEY VALUE... (validated, all or nothing)", config_set},
      {"reset", "return every setting to its default", config_reset},
  };
  return dispatch_group(g, "config", subs, args);
}

}  // namespace queuectl::cli
