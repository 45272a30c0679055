// The JSON codec: valid specs round-trip; every bad spec is rejected naming the field.
#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>

#include <set>

#include "queuectl/job_codec.hpp"
#include "queuectl/job_id.hpp"
#include "printers.hpp"

using namespace queuectl;

BOOST_AUTO_TEST_SUITE(codec)

BOOST_AUTO_TEST_CASE(full_spec_parses_every_field) {
  const auto s = parse_job_spec(R"({"id":"job-1","command":"echo hi","executor":"shell","payload":{"a":[1,2],"b":{"c":null}},
    "queue":"mail","priority":7,"max_retries":5,"run_at":"2026-01-02T03:04:05.678Z","timeout":2.5,
    "env":{"FOO":"bar","_X1":""},"cwd":"/tmp"})");
  BOOST_TEST(s.id == "job-1");
  BOOST_TEST(s.command == "echo hi");
  BOOST_TEST(s.payload == R"({"a":[1,2],"b":{"c":null}})");
  BOOST_TEST(s.queue == "mail");
  BOOST_TEST(s.priority == 7);
  BOOST_TEST(*s.max_retries == 5);
  BOOST_TEST(to_rfc3339(*s.run_at) == "2026-01-02T03:04:05.678Z");
  BOOST_TEST(*s.timeout == 2.5);
  BOOST_TEST(s.env.at("FOO") == "bar");
  BOOST_TEST(s.cwd == "/tmp");
}

BOOST_AUTO_TEST_CASE(defaults_and_epoch_run_at) {
  const auto s = parse_job_spec(R"({"command":"true","run_at":1767225600})");
  BOOST_TEST(s.id.empty());
  BOOST_TEST(s.executor == "shell");
  BOOST_TEST(s.queue == "default");
  BOOST_TEST(s.payload == "{}");
  BOOST_TEST(!s.max_retries.has_value());
  BOOST_TEST(to_rfc3339(*s.run_at) == "2026-01-01T00:00:00.000Z");
  BOOST_TEST(to_rfc3339(*parse_job_spec(R"({"command":"x","run_at":"2026-01-01T02:00:00+02:00"})").run_at) ==
             "2026-01-01T00:00:00.000Z");
  // a non-shell executor needs no command
  BOOST_TEST(parse_job_spec(R"({"executor":"http","payload":{"url":"http://x"}})").executor == "http");
}

struct bad_case {
  const char* spec;
  const char* id;     // expected error id
  const char* field;  // text the message must contain
};
std::ostream& operator<<(std::ostream& os, const bad_case& c) { return os << c.spec; }

const std::string big_payload = R"({"command":"x","payload":{"blob":")" + std::string(1100000, 'a') + "\"}}";

const bad_case bad_specs[] = {
    {"{oops", "queuectl.spec.parse_error", "malformed JSON"},
    {"", "queuectl.spec.parse_error", "malformed JSON"},
    {R"({"command":"x"} trailing)", "queuectl.spec.parse_error", "malformed JSON"},
    {"[1,2]", "queuectl.spec.not_object", "object"},
    {"\"just a string\"", "queuectl.spec.not_object", "object"},
    {R"({"id":"x"})", "queuectl.spec.command", "command"},
    {R"({"command":""})", "queuectl.spec.command", "command"},
    {R"({"command":42})", "queuectl.spec.command", "command"},
    {R"({"command":"x","id":7})", "queuectl.spec.id", "id"},
    {R"({"command":"x","id":"has space"})", "queuectl.spec.id", "id"},
    {R"({"command":"x","id":""})", "queuectl.spec.id", "id"},
    {R"({"command":"x","max_retries":-1})", "queuectl.spec.max_retries", "max_retries"},
    {R"({"command":"x","max_retries":1.5})", "queuectl.spec.max_retries", "max_retries"},
    {R"({"command":"x","max_retries":"3"})", "queuectl.spec.max_retries", "max_retries"},
    {R"({"command":"x","max_retries":100000})", "queuectl.spec.max_retries", "max_retries"},
    {R"({"command":"x","priority":"high"})", "queuectl.spec.priority", "priority"},
    {R"({"command":"x","priority":99999999999})", "queuectl.spec.priority", "priority"},
    {R"({"command":"x","executor":"Shell!"})", "queuectl.spec.executor", "executor"},
    {R"({"command":"x","executor":"../evil"})", "queuectl.spec.executor", "executor"},
    {R"({"command":"x","executor":5})", "queuectl.spec.executor", "executor"},
    {R"({"command":"x","queue":"a b"})", "queuectl.spec.queue", "queue"},
    {R"({"command":"x","payload":"{}"})", "queuectl.spec.payload", "payload"},
    {R"({"command":"x","payload":[1]})", "queuectl.spec.payload", "payload"},
    {R"({"command":"x","run_at":"yesterday"})", "queuectl.spec.run_at", "run_at"},
    {R"({"command":"x","run_at":"2026-13-01T00:00:00Z"})", "queuectl.spec.run_at", "run_at"},
    {R"({"command":"x","run_at":"2026-02-30T00:00:00Z"})", "queuectl.spec.run_at", "run_at"},
    {R"({"command":"x","run_at":-5})", "queuectl.spec.run_at", "run_at"},
    {R"({"command":"x","run_at":true})", "queuectl.spec.run_at", "run_at"},
    {R"({"command":"x","timeout":-1})", "queuectl.spec.timeout", "timeout"},
    {R"({"command":"x","timeout":"10s"})", "queuectl.spec.timeout", "timeout"},
    {R"({"command":"x","env":{"A":1}})", "queuectl.spec.env", "env"},
    {R"({"command":"x","env":{"1BAD":"v"}})", "queuectl.spec.env", "env"},
    {R"({"command":"x","env":["A=1"]})", "queuectl.spec.env", "env"},
    {R"({"command":"x","cwd":false})", "queuectl.spec.cwd", "cwd"},
    {R"({"command":"x","comand":"typo"})", "queuectl.spec.unknown_field", "comand"},
    {R"({"command":"x","state":"completed"})", "queuectl.spec.unknown_field", "state"},
    {R"({"command":"x","command":"y"})", "queuectl.spec.duplicate_field", "command"},
    {"{\"command\":\"\xc3\x28\"}", "queuectl.spec.encoding", "UTF-8"},
    {"{\"command\":\"ok\",\"cwd\":\"\xff\xfe\"}", "queuectl.spec.encoding", "UTF-8"},
};

BOOST_DATA_TEST_CASE(bad_specs_are_rejected_naming_the_field, boost::unit_test::data::make(bad_specs), c) {
  try {
    parse_job_spec(c.spec);
    BOOST_FAIL("accepted: " << c.spec);
  } catch (const error& e) {
    BOOST_TEST(e.kind() == error_kind::invalid_input);
    BOOST_TEST(e.id() == c.id);
    BOOST_TEST(std::string(e.what()).find(c.field) != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find('\n') == std::string::npos);  // one line
  }
}

BOOST_AUTO_TEST_CASE(oversized_payload_and_spec) {
  BOOST_CHECK_EXCEPTION(parse_job_spec(big_payload), error, [](const error& e) {
    return e.id() == "queuectl.spec.too_large" && e.message().find("payload") != std::string::npos;
  });
  const std::string huge = R"({"command":")" + std::string(2u << 20, 'a') + "\"}";
  BOOST_CHECK_EXCEPTION(parse_job_spec(huge), error, [](const error& e) { return e.id() == "queuectl.spec.too_large"; });
}

BOOST_AUTO_TEST_CASE(json_lines_are_all_or_nothing_with_line_numbers) {
  const auto ok = parse_job_specs_jsonl("{\"command\":\"a\"}\n\n  \n{\"command\":\"b\"}\r\n");
  BOOST_TEST(ok.size() == 2u);
  BOOST_TEST(ok[1].command == "b");
  BOOST_CHECK_EXCEPTION(parse_job_specs_jsonl("{\"command\":\"a\"}\n{\"command\":\"b\",\"max_retries\":-2}\n"), error,
                        [](const error& e) {
                          return e.id() == "queuectl.spec.max_retries" &&
                                 e.message().rfind("line 2: max_retries", 0) == 0;
                        });
}

BOOST_AUTO_TEST_CASE(serialization_is_pretty_rfc3339_and_nested) {
  job j;
  j.id = "j1";
  j.command = "echo \"quoted\"";
  j.payload = R"({"url":"http://x"})";
  j.env = {{"A", "1"}};
  j.created_at = from_ms(1767225600123);
  j.updated_at = j.created_at;
  j.run_at = j.created_at;
  j.exit_code = 3;
  const std::string pretty = to_json(j, true);
  BOOST_TEST(pretty.find("\"id\": \"j1\"") != std::string::npos);
  BOOST_TEST(pretty.find("\"created_at\": \"2026-01-01T00:00:00.123Z\"") != std::string::npos);
  BOOST_TEST(pretty.find("\"url\": \"http://x\"") != std::string::npos);  // payload is an object
  BOOST_TEST(pretty.find("\"exit_code\": 3") != std::string::npos);
  BOOST_TEST(pretty.find("\"lease_expires_at\": null") != std::string::npos);
  BOOST_TEST(to_json(std::vector<job>{}, true) == "[]");
  // what we write for a job's spec fields parses back to the same spec values
  const std::string compact = to_json(j);
  BOOST_TEST(compact.find("\"command\":\"echo \\\"quoted\\\"\"") != std::string::npos);
  attempt_record a;
  a.number = 2;
  a.started_at = j.created_at;
  a.finished_at = j.created_at + milliseconds(1500);
  a.outcome = attempt_outcome::failed;
  BOOST_TEST(to_json(a).find("\"duration_ms\":1500") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rfc3339_round_trip_and_rejects) {
  const auto t = parse_rfc3339("2026-11-22T13:41:40.5Z");
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(to_rfc3339(*t) == "2026-11-22T13:41:40.500Z");
  for (const char* bad : {"2026-11-22", "2026-11-22T13:41:40", "2026-11-22T25:00:00Z", "2026-11-22T13:41:40.Z",
                          "2026-11-22T13:41:40Zjunk", "1969-12-31T23:59:59Z"})
    BOOST_TEST(!parse_rfc3339(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(generated_ids_are_unique_and_well_formed) {
  std::set<std::string> ids;
  for (int i = 0; i < 100000; ++i) ids.insert(generate_job_id());
  BOOST_TEST(ids.size() == 100000u);
  const std::string id = *ids.begin();
  BOOST_TEST(id.size() == 21u);
  BOOST_TEST(id[12] == '-');
  BOOST_TEST(parse_job_spec("{\"command\":\"x\",\"id\":\"" + id + "\"}").id == id);  // valid as a user id too
}

BOOST_AUTO_TEST_SUITE_END()
