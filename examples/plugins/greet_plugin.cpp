// `greet`: the smallest useful executor plugin. A job
//   {"executor": "greet", "payload": {"name": "Ada", "times": 2}}
// succeeds with "hello, Ada" printed `times` times as its output. A job without a name
// is refused at enqueue time (check), and `"name": "nobody"` fails permanently at run
// time, to show both kinds of failure.
#include <rapidjson/document.h>

#include <string>

#include <queuectl/json_parse.hpp>
#include <queuectl/plugin/executor_plugin.hpp>

namespace {

class greet_executor final : public queuectl::executor_plugin {
 public:
  std::string_view name() const noexcept override { return "greet"; }

 protected:
  // Called by `queuectl enqueue` (and the REST API) before anything is stored.
  std::string check(const queuectl::job_spec& spec) const override {
    rapidjson::Document d;
    queuectl::parse_json(d, spec.payload);  // iterative, depth-limited: never d.Parse on input
    if (d.HasParseError() || !d.IsObject()) return "payload: must be an object";
    if (!d.HasMember("name") || !d["name"].IsString() || d["name"].GetStringLength() == 0)
      return "payload.name: required, a non-empty string";
    if (d.HasMember("times") && (!d["times"].IsInt() || d["times"].GetInt() < 1 || d["times"].GetInt() > 100))
      return "payload.times: must be an integer from 1 to 100";
    return {};
  }

  // Called on a worker thread for each attempt; may run concurrently with itself.
  queuectl::attempt_result run(const queuectl::job& j, const queuectl::execution_context& ctx) override {
    rapidjson::Document d;
    queuectl::parse_json(d, j.payload);  // checked at enqueue; a stored job is trusted no further
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("name") || !d["name"].IsString())
      return queuectl::attempt_result::failure("payload.name missing", /*permanent=*/true);
    const std::string who = d["name"].GetString();
    if (who == "nobody") return queuectl::attempt_result::failure("nobody to greet", /*permanent=*/true);
    const int times = d.HasMember("times") && d["times"].IsInt() ? d["times"].GetInt() : 1;
    auto r = queuectl::attempt_result::ok();
    for (int i = 0; i < times && !ctx.stop.stop_requested(); ++i) r.output += "hello, " + who + "\n";
    r.exit_code = 0;
    return r;
  }
};

}  // namespace

QUEUECTL_EXECUTOR_PLUGIN(greet_executor)
