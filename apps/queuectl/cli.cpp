#include "cli.hpp"

#include <unistd.h>

#include <filesystem>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "db_location.hpp"
#include "storage_backends.hpp"

namespace queuectl::cli {

namespace {
/// `config set max-retries -1` must reach validation ("not an integer >= 0"), not fail as
/// an unknown option "-1": a token that looks like a negative number is a positional value.
std::vector<po::option> negative_numbers_are_values(std::vector<std::string>& args) {
  const std::string& a = args.front();
  if (a.size() < 2 || a[0] != '-' || !(std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.')) return {};
  po::option opt;
  opt.value.push_back(a);
  opt.original_tokens.push_back(a);
  args.erase(args.begin());
  return {opt};
}
}  // namespace

std::string& current_command() {
  static std::string name;
  return name;
}

command_parser::command_parser(const globals& g, std::string command, std::string synopsis, std::string about)
    : globals_(g),
      command_(std::move(command)),
      synopsis_(std::move(synopsis)),
      about_(std::move(about)),
      visible_("Options", 100, 50),
      hidden_("hidden") {
  visible_.add_options()("help,h", "show this help")(
      "db", po::value<std::string>()->value_name("PATH"),
      "database (default: $QUEUECTL_DB, else $QUEUECTL_DB_PATH, else $QUEUECTL_HOME/queue.db, QUEUECTL_HOME "
      "defaulting to ~/.queuectl)");
}

command_parser& command_parser::json() {
  visible_.add_options()("json", "print JSON (pretty, for scripts) instead of text");
  return *this;
}

command_parser& command_parser::positional(const char* name, int max_count) {
  const po::value_semantic* v = max_count == 1 ? static_cast<const po::value_semantic*>(po::value<std::string>())
                                                : po::value<std::vector<std::string>>();
  hidden_.add_options()(name, v);
  positional_.add(name, max_count);
  return *this;
}

bool command_parser::parse(const args_t& args) {
  po::options_description all;
  all.add(visible_).add(hidden_);
  // No abbreviations: `--lim` must not silently become `--limit` (the CLI is an API).
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  current_command() = command_;
  po::store(po::command_line_parser(args)
                .options(all)
                .positional(positional_)
                .style(style)
                .extra_style_parser(negative_numbers_are_values)
                .run(),
            vm_);
  po::notify(vm_);
  if (vm_.count("help")) {
    std::ostringstream o;
    o << "Usage: queuectl " << command_ << (synopsis_.empty() ? "" : " ") << synopsis_ << "\n\n"
      << about_ << "\n\n";
    for (const auto& a : command_aliases())
      if (command_ == std::string(a.group) + " " + a.sub)
        o << "Also spelled 'queuectl " << a.alias << "' (the same command).\n\n";
    o << visible_;
    print(o.str());
    return false;
  }
  json_ = vm_.count("json") > 0;
  return true;
}

std::string command_parser::required(const char* name) const {
  if (!has(name)) throw usage_error(std::string("missing ") + name);
  return get<std::string>(name);
}

std::string command_parser::db() const {
  std::optional<std::string> flag = globals_.db;
  if (has("db")) flag = get<std::string>("db");
  if (flag && flag->empty()) throw usage_error("--db: empty path");
  return app::resolve_db(flag);
}

std::unique_ptr<app::host_queue> open_queue(const command_parser& p) { return app::open_host_queue(p.db()); }

std::unique_ptr<app::host_queue> open_queue_for_reading(const command_parser& p) {
  const std::string db = p.db();
  if (app::storage_backend_for(db).is_file() && ::access(db.c_str(), F_OK) == 0) {
    const std::string dir = std::filesystem::path(db).parent_path().string();
    if (::access(db.c_str(), W_OK) != 0 || ::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0)
      return app::open_host_queue_read_only(db);
  }
  return app::open_host_queue(db);
}

void print(std::string_view text) {
  if (!text.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
}

std::size_t parse_count(const std::string& option, const std::string& value) {
  unsigned long long n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size())
    throw usage_error(option + ": '" + value + "' is not a non-negative integer");
  return static_cast<std::size_t>(n);
}

job_state parse_state(const std::string& value) {
  if (auto s = parse_job_state(value)) return *s;
  std::string valid;
  for (auto s : all_job_states) {
    if (!valid.empty()) valid += ", ";
    valid += to_string(s);
  }
  throw usage_error("unknown state '" + value + "' (valid: " + valid + ")");
}

int dispatch_group(const globals& g, const char* group, const std::vector<subcommand>& subs, const args_t& args) {
  auto help = [&] {
    std::string o = std::string("Usage: queuectl ") + group + " COMMAND [options]\n\nCommands:\n";
    std::size_t w = 0;
    for (const auto& s : subs) w = std::max(w, std::string_view(s.name).size());
    for (const auto& s : subs) {
      o += "  ";
      o += s.name;
      o.append(w - std::string_view(s.name).size() + 2, ' ');
      o += s.summary;
      o += '\n';
    }
    o += std::string("\nRun 'queuectl ") + group + " COMMAND --help' for a command's options.\n";
    print(o);
  };
  if (args.empty()) throw usage_error(std::string("missing command after '") + group + "'");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    help();
    return exit_ok;
  }
  for (const auto& s : subs)
    if (args[0] == s.name) return s.run(g, args_t(args.begin() + 1, args.end()));
  throw usage_error(std::string("unknown command '") + group + " " + args[0] + "'");
}

const std::vector<command_alias>& command_aliases() {
  static const std::vector<command_alias> aliases = {
      {"worker-start", "worker", "start"}, {"worker-stop", "worker", "stop"},   {"dlq-list", "dlq", "list"},
      {"dlq-retry", "dlq", "retry"},       {"config-show", "config", "show"},  {"config-get", "config", "get"},
      {"config-set", "config", "set"},     {"config-reset", "config", "reset"},
  };
  return aliases;
}

const command_alias* find_alias(std::string_view name) {
  for (const auto& a : command_aliases())
    if (name == a.alias) return &a;
  return nullptr;
}

}  // namespace queuectl::cli
