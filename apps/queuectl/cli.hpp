// What every `queuectl` command shares: option parsing with --help/--db/--json, the exit
// code rules, and opening the queue.
#pragma once

#include <boost/program_options.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "host_queue.hpp"

namespace queuectl::cli {

namespace po = boost::program_options;

/// Exit codes of docs/cli.md.
enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_not_found = 3 };

/// Bad usage or bad input detected by the CLI itself: exit 2, the message on one line.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Options given before the command name (`queuectl --db X list`).
struct globals {
  std::optional<std::string> db;
};

using args_t = std::vector<std::string>;

/// @brief Parses one command's arguments with Boost.Program_options.
///
/// Every command gets `--help` and `--db`; read commands add `--json` with json().
/// Positional arguments are declared with positional(); too many, unknown options or
/// abbreviations are usage errors.
class command_parser {
 public:
  /// @param command  e.g. "dlq retry"
  /// @param synopsis e.g. "ID | --all"
  /// @param about    one or two sentences for --help
  command_parser(const globals& g, std::string command, std::string synopsis, std::string about);

  po::options_description_easy_init options() { return visible_.add_options(); }
  /// Options accepted but not listed by --help (a second spelling).
  po::options_description_easy_init hidden_options() { return hidden_.add_options(); }
  /// Adds --json.
  command_parser& json();
  /// Declares a positional argument; max_count -1 = any number.
  command_parser& positional(const char* name, int max_count = 1);

  /// Parses; false when --help was given (help already printed, exit 0).
  bool parse(const args_t& args);

  bool has(const char* name) const { return vm_.count(name) > 0; }
  template <class T>
  T get(const char* name) const {
    return vm_[name].as<T>();
  }
  template <class T>
  std::optional<T> maybe(const char* name) const {
    if (!has(name)) return std::nullopt;
    return vm_[name].as<T>();
  }
  /// A positional argument's value; throws usage_error "missing NAME" when absent.
  std::string required(const char* name) const;
  bool json_output() const { return json_; }

  /// The database from --db (here or before the command), QUEUECTL_DB or QUEUECTL_HOME.
  std::string db() const;
  const std::string& command() const { return command_; }

 private:
  const globals& globals_;
  std::string command_;
  std::string synopsis_;
  std::string about_;
  po::options_description visible_;
  po::options_description hidden_;
  po::positional_options_description positional_;
  po::variables_map vm_;
  bool json_ = false;
  bool help_ = false;
};

/// The command being parsed ("dlq retry"), for the hint after a usage error.
std::string& current_command();

/// Opens the queue for a non-worker command (no plugins are loaded).
std::unique_ptr<app::host_queue> open_queue(const command_parser& p);
/// For commands that only read (list, show, logs, status, metrics, dlq list, config get): a
/// SQLite file this user cannot write (or in a directory it cannot write) is opened read-only.
std::unique_ptr<app::host_queue> open_queue_for_reading(const command_parser& p);

/// Writes to stdout as is.
void print(std::string_view text);

/// Parses a non-negative integer option value ("--limit"); usage_error otherwise.
std::size_t parse_count(const std::string& option, const std::string& value);

/// A `--state` value; usage_error naming the valid states otherwise.
job_state parse_state(const std::string& value);

// ---- the commands (one file per group) ------------------------------------------------

int cmd_enqueue(const globals& g, const args_t& args);
int cmd_worker(const globals& g, const args_t& args);
int cmd_status(const globals& g, const args_t& args);
int cmd_metrics(const globals& g, const args_t& args);
int cmd_list(const globals& g, const args_t& args);
int cmd_show(const globals& g, const args_t& args);
int cmd_logs(const globals& g, const args_t& args);
int cmd_cancel(const globals& g, const args_t& args);
int cmd_delete(const globals& g, const args_t& args);
int cmd_purge(const globals& g, const args_t& args);
int cmd_dlq(const globals& g, const args_t& args);
int cmd_config(const globals& g, const args_t& args);
int cmd_dashboard(const globals& g, const args_t& args);
int cmd_migrate(const globals& g, const args_t& args);
int cmd_update(const globals& g, const args_t& args);
int cmd_reset(const globals& g, const args_t& args);

/// Dispatches `GROUP SUB ...` (worker, dlq, config): prints the group's help for --help or
/// no sub-command; unknown sub-command is a usage error.
struct subcommand {
  const char* name;
  const char* summary;
  int (*run)(const globals&, const args_t&);
};
int dispatch_group(const globals& g, const char* group, const std::vector<subcommand>& subs, const args_t& args);

/// A single-word spelling of `GROUP SUB` used by other QueueCTL tools (`worker-start` for
/// `worker start`): dispatched exactly as the canonical command, which shares its code and
/// --help (docs/cli.md, "Coming from another QueueCTL").
struct command_alias {
  const char* alias;
  const char* group;
  const char* sub;
};
const std::vector<command_alias>& command_aliases();
/// The alias named `name`, or nullptr.
const command_alias* find_alias(std::string_view name);

}  // namespace queuectl::cli
