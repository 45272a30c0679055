// queuectl: the command-line interface of docs/cli.md. Formats and exit codes are an API:
// 0 ok, 1 runtime failure, 2 bad usage or bad input (one line on stderr), 3 not found.
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "cli.hpp"
#include "queuectl/error.hpp"
#include "queuectl/plugin/plugin_helper.hpp"

#ifndef QUEUECTL_VERSION
#define QUEUECTL_VERSION "unknown"
#endif

namespace {

using namespace queuectl::cli;

struct command_entry {
  const char* name;
  const char* summary;
  int (*run)(const globals&, const args_t&);
};

// A function-local table: nothing is built before main runs.
const command_entry* find_command(std::string_view name, bool list_all = false) {
  static const command_entry commands[] = {
      {"enqueue", "add a job ('<json>') or many (--file F|-, JSON Lines, one transaction); prints ids", cmd_enqueue},
      {"worker", "worker start --count N [--daemon] | worker stop", cmd_worker},
      {"status", "job counts per state and active worker slots", cmd_status},
      {"list", "list jobs [--state S] [--queue Q] [--limit N] [--offset N]", cmd_list},
      {"show", "one job: every field and its attempts", cmd_show},
      {"logs", "each attempt of a job: exit code, outcome, then its output", cmd_logs},
      {"dlq", "dead-letter queue: dlq list | dlq retry ID | dlq retry --all", cmd_dlq},
      {"config", "config get [KEY] | config show | config set KEY VALUE (or --KEY VALUE...) | config reset", cmd_config},
      {"metrics", "throughput, success rate, durations, counts [--since 1h]", cmd_metrics},
      {"cancel", "cancel a job (a running one is stopped by its worker)", cmd_cancel},
      {"purge", "delete finished jobs [--state S]... [--older-than 7d]", cmd_purge},
      {"delete", "delete one job that is not running", cmd_delete},
      {"update", "change a job that is not running ('<json>' with its id), e.g. back to pending", cmd_update},
      {"reset", "delete every job and attempt, keep the settings [--yes] [--force]", cmd_reset},
      {"dashboard", "serve the web dashboard and REST API [--bind 127.0.0.1:8080] [--token T]", cmd_dashboard},
      {"migrate", "create or upgrade the database schema (run as the owner role)", cmd_migrate},
  };
  if (list_all) return commands;
  for (const auto& c : commands)
    if (name == c.name) return &c;
  return nullptr;
}
constexpr std::size_t command_count = 16;

void print_help() {
  std::string o =
      "Usage: queuectl [--db PATH] COMMAND [options]\n\n"
      "A background job queue: enqueue jobs, run workers, inspect and manage the queue.\n\n"
      "Commands:\n";
  const command_entry* all = find_command("", true);
  for (std::size_t i = 0; i < command_count; ++i) {
    o += "  ";
    o += all[i].name;
    o.append(10 - std::strlen(all[i].name), ' ');
    o += all[i].summary;
    o += '\n';
  }
  o += "\nAlso spelled:";  // one line: other QueueCTL tools' single-word commands (docs/cli.md)
  for (const auto& a : command_aliases()) o += std::string(" ") + a.alias;
  o +=
      "\n\nGlobal options:\n"
      "  --db PATH      database (default: $QUEUECTL_DB, else $QUEUECTL_DB_PATH, else\n"
      "                 $QUEUECTL_HOME/queue.db, QUEUECTL_HOME defaulting to ~/.queuectl)\n"
      "  -h, --help     show help; 'queuectl COMMAND --help' for a command's options\n"
      "  --version      print the version\n\n"
      "Read commands take --json (pretty JSON for scripts).\n"
      "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or input, 3 not found.\n";
  print(o);
}

/// One line on stderr, whatever the message holds: control characters (in an id or value
/// the user gave) are escaped by queuectl::printable_line, never sent to the terminal.
int fail(int code, const std::string& message) {
  std::string_view m = message;
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == ' ')) m.remove_suffix(1);
  std::string flat(m);
  for (char& c : flat)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';  // a library's multi-line message: one line
  std::string line = "queuectl: " + queuectl::printable_line(flat);
  if (line.size() > 1000) {
    std::size_t cut = 997;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 sequence
    line = line.substr(0, cut) + "...";
  }
  line += '\n';
  std::fflush(stdout);
  std::fwrite(line.data(), 1, line.size(), stderr);
  return code;
}

int exit_code_for(queuectl::error_kind k) {
  switch (k) {
    case queuectl::error_kind::invalid_input:
    case queuectl::error_kind::conflict:
      return exit_usage;
    case queuectl::error_kind::not_found:
      return exit_not_found;
    default:
      return exit_failure;
  }
}

/// The most specific command whose --help explains a usage error.
std::string help_topic(const std::string& command) {
  const std::string& parsing = current_command();
  return parsing.empty() ? command : parsing;
}

}  // namespace

int main(int argc, char** argv) {
  // `worker start --isolate`: this binary re-executed as a plugin's helper process.
  if (queuectl::is_plugin_helper_invocation(argc, argv)) return queuectl::run_plugin_helper();
  globals g;
  std::string command;
  try {
    // Global options come before the command; the command parses the rest.
    int i = 1;
    for (; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--db") {
        if (i + 1 >= argc) return fail(exit_usage, "--db needs a value (see 'queuectl --help')");
        g.db = argv[++i];
      } else if (a.rfind("--db=", 0) == 0) {
        g.db = std::string(a.substr(5));
      } else if (a == "--help" || a == "-h") {
        print_help();
        return exit_ok;
      } else if (a == "--version") {
        print("queuectl " QUEUECTL_VERSION "\n");
        return exit_ok;
      } else if (!a.empty() && a[0] == '-') {
        return fail(exit_usage, "unknown option '" + std::string(a) + "' before the command (see 'queuectl --help')");
      } else {
        break;
      }
    }
    if (i >= argc) return fail(exit_usage, "missing command (see 'queuectl --help')");
    command = argv[i];
    if (command == "help") {
      if (i + 1 >= argc) {
        print_help();
        return exit_ok;
      }
      command = argv[i + 1];
      if (const command_entry* c = find_command(command)) return c->run(g, {"--help"});
      if (const command_alias* a = find_alias(command)) return find_command(a->group)->run(g, {a->sub, "--help"});
      return fail(exit_usage, "unknown command '" + command + "' (see 'queuectl --help')");
    }
    const command_entry* c = find_command(command);
    args_t rest(argv + i + 1, argv + argc);
    if (const command_alias* a = c ? nullptr : find_alias(command)) {  // `worker-start ARGS` = `worker start ARGS`
      c = find_command(a->group);
      rest.insert(rest.begin(), a->sub);
    }
    if (!c) return fail(exit_usage, "unknown command '" + command + "' (see 'queuectl --help')");
    const int rc = c->run(g, rest);
    // Output that did not reach its destination (disk full, closed pipe) is a failure.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) return fail(exit_failure, "cannot write the output");
    return rc;
  } catch (const usage_error& e) {
    return fail(exit_usage, std::string(e.what()) + " (see 'queuectl " + help_topic(command) + " --help')");
  } catch (const boost::program_options::error& e) {
    return fail(exit_usage, std::string(e.what()) + " (see 'queuectl " + help_topic(command) + " --help')");
  } catch (const queuectl::error& e) {
    return fail(exit_code_for(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(exit_failure, "out of memory");
  } catch (const std::exception& e) {
    return fail(exit_failure, e.what());
  }
}
