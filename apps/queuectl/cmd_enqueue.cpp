// enqueue '<json>' | enqueue --file F|- : parse and validate everything first, then one
// transaction, then print the ids. Bad input exits 2 with nothing stored.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "cli.hpp"
#include "durations.hpp"
#include "json_output.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/job_codec.hpp"
#include "spec_validation.hpp"

namespace queuectl::cli {

namespace {

/// Largest accepted job spec (one JSON object / one JSON Lines line).
constexpr std::size_t max_spec_bytes = 1 << 20;

std::string read_all(const std::string& path) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) throw usage_error("--file " + path + ": " + std::strerror(errno));
  std::string text;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool bad = std::ferror(f);
  if (f != stdin) std::fclose(f);
  if (bad) throw usage_error("--file " + path + ": read error");
  return text;
}

void check_line_sizes(std::string_view text) {
  std::size_t line = 1, start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end - start > max_spec_bytes)
      throw error(error_kind::invalid_input, "queuectl.spec.too_large",
                  "line " + std::to_string(line) + ": job spec is larger than 1 MiB");
    start = end + 1;
    ++line;
  }
}

}  // namespace

int cmd_enqueue(const globals& g, const args_t& args) {
  command_parser p(
      g, "enqueue", "'<json>' | --file F|-  [--delay 30s | --run-at T] [--priority N] [--queue Q] ...",
      "Adds one job from a JSON object, or many from JSON Lines (--file F, or - for stdin) in one\n"
      "transaction, and prints each job's id on its own line. Fields: id, command, executor,\n"
      "payload, queue, priority, max_retries, run_at, timeout, env, cwd. The options below\n"
      "override the spec's fields (for every job of a --file). Invalid input exits 2 and stores\n"
      "nothing, e.g.:\n"
      "  queuectl enqueue '{\"id\":\"job1\",\"command\":\"sleep 2\"}'");
  p.positional("spec");
  p.options()("file,f", po::value<std::string>()->value_name("F"), "read JSON Lines from F ('-': stdin)")(
      "delay", po::value<std::string>()->value_name("AGE"), "run no earlier than AGE from now (30s, 5m, 1h, 2d)")(
      "run-at", po::value<std::string>()->value_name("T"), "run no earlier than T (RFC 3339, e.g. 2026-01-02T03:04:05Z)")(
      "priority", po::value<std::string>()->value_name("N"), "higher runs first (default 0)")(
      "queue", po::value<std::string>()->value_name("Q"), "queue name (default 'default')")(
      "timeout", po::value<std::string>()->value_name("S"), "seconds per attempt, 0 = none")(
      "max-retries", po::value<std::string>()->value_name("N"), "attempts before the job is dead (0: one attempt)");
  p.options()("json", "print the created job as JSON, as 'show ID --json' does (--file: a JSON array, as 'list --json')");
  if (!p.parse(args)) return exit_ok;

  if (p.has("spec") == p.has("file")) throw usage_error("give either one '<json>' job spec or --file F");
  if (p.has("delay") && p.has("run-at")) throw usage_error("give either --delay or --run-at, not both");
  // The flags become spec fields, checked by the codec's own rules and bounds (docs/cli.md
  // "Bounds"): a flag can never set what the JSON field could not.
  spec_overrides overrides;
  if (auto d = p.maybe<std::string>("delay")) {
    const auto delay = app::parse_duration(*d);
    if (!delay || !bounds::delay.contains(static_cast<double>(delay->count()) / 1000.0))
      throw usage_error("--delay: '" + *d + "' is not a duration like 30s, 5m, 1h, 2d (at most ten years)");
    overrides.set_json("run_at", number_bound::format(static_cast<double>(to_ms(saturating_add(now(), *delay))) / 1000.0),
                       "--delay");
  }
  if (auto t = p.maybe<std::string>("run-at")) overrides.set_string("run_at", *t, "--run-at");
  if (auto v = p.maybe<std::string>("queue")) overrides.set_string("queue", *v, "--queue");
  if (auto v = p.maybe<std::string>("timeout")) overrides.set_json("timeout", *v, "--timeout");
  if (auto v = p.maybe<std::string>("max-retries")) overrides.set_json("max_retries", *v, "--max-retries");
  if (auto v = p.maybe<std::string>("priority")) overrides.set_json("priority", *v, "--priority");

  std::vector<job_spec> specs;
  if (p.has("spec")) {
    const std::string text = p.get<std::string>("spec");
    if (text.size() > max_spec_bytes)
      throw error(error_kind::invalid_input, "queuectl.spec.too_large", "job spec is larger than 1 MiB");
    specs.push_back(parse_job_spec(text, {}, &overrides));
  } else {
    const std::string path = p.get<std::string>("file");
    const std::string text = read_all(path);
    check_line_sizes(text);
    specs = parse_job_specs_jsonl(text, {}, &overrides);
    if (specs.empty()) {
      std::fprintf(stderr, "queuectl: no job specs in %s: nothing enqueued\n", path == "-" ? "stdin" : path.c_str());
      if (p.has("json")) print("[]\n");
      return exit_ok;
    }
  }

  app::spec_validator().validate(specs);
  auto q = open_queue(p);
  const bool from_file = p.has("file");
  const auto ids = q->enqueue(std::move(specs));
  std::string out;
  if (p.has("json")) {
    // The jobs as stored (created_at, defaults from config); one may already be running.
    std::vector<job> jobs;
    jobs.reserve(ids.size());
    for (const auto& id : ids) {
      try {
        jobs.push_back(q->get(id));
      } catch (const error& e) {
        if (e.kind() != error_kind::not_found) throw;
        std::fprintf(stderr, "queuectl: job '%s' was deleted before it could be shown\n", id.c_str());
      }
    }
    if (from_file) out = app::jobs_json(jobs) + "\n";
    else if (!jobs.empty()) out = app::job_json(jobs.front(), q->attempts(jobs.front().id)) + "\n";
  } else {
    for (const auto& id : ids) {
      out += id;
      out += '\n';
    }
  }
  print(out);
  return exit_ok;
}

}  // namespace queuectl::cli
