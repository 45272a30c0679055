// The bounds table (bounds.hpp), the saturating duration helpers (time.hpp), the one JSON
// parser (json_parse.hpp) and the error-line escaping (error.hpp): every setting and job
// number has a range, enforced the same way by config, codec and enqueue's flags, and no
// accepted number can overflow a lease, a deadline or a retry time.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/backoff/jittered.hpp"
#include "queuectl/backoff/linear_backoff.hpp"
#include "queuectl/bounds.hpp"
#include "queuectl/executor/function_executor.hpp"
#include "queuectl/job_codec.hpp"
#include "queuectl/json_parse.hpp"
#include "queuectl/memory_queue.hpp"
#include "queuectl/queue_config.hpp"
#include "printers.hpp"

using namespace queuectl;
using namespace std::chrono_literals;

namespace {
bool invalid(const error& e) { return e.kind() == error_kind::invalid_input; }
const double inf = std::numeric_limits<double>::infinity();
}  // namespace

BOOST_AUTO_TEST_SUITE(bounds_table)

BOOST_AUTO_TEST_CASE(every_config_key_has_a_bound_and_its_default_is_inside) {
  const queue_config defaults;
  for (const auto& [key, about] : queue_config::keys()) {
    if (key == "job-ids") continue;  // a choice (random, sequential), not a number
    const number_bound* b = bounds::find(key);
    BOOST_TEST_REQUIRE(b != nullptr, key);
    const double v = std::stod(defaults.get(key));
    BOOST_TEST(b->contains(v), key << " default " << v);
    BOOST_TEST(about.find(b->describe()) != std::string::npos, key);  // the help text shows the range
  }
}

BOOST_AUTO_TEST_CASE(contains_rejects_non_finite_fractions_and_the_exclusive_minimum) {
  BOOST_TEST(!bounds::lease_seconds.contains(1e300));
  BOOST_TEST(!bounds::lease_seconds.contains(1e-9));
  BOOST_TEST(!bounds::lease_seconds.contains(std::nan("")));
  BOOST_TEST(!bounds::lease_seconds.contains(inf));
  BOOST_TEST(bounds::lease_seconds.contains(0.05));
  BOOST_TEST(bounds::lease_seconds.contains(86400));
  BOOST_TEST(!bounds::max_retries.contains(1.5));
  BOOST_TEST(bounds::max_retries.contains(1000));
  BOOST_TEST(!bounds::max_retries.contains(1001));
  const number_bound above_zero{"x", 0, 10, false, true, ""};
  BOOST_TEST(!above_zero.contains(0));
  BOOST_TEST(above_zero.contains(0.001));
  BOOST_TEST(bounds::priority.describe() == "an integer from -1000000000 to 1000000000");
}

BOOST_AUTO_TEST_CASE(config_set_refuses_every_out_of_bounds_value_and_keeps_the_old_one) {
  const char* cases[][2] = {
      {"lease-seconds", "1e300"},        {"lease-seconds", "1e-9"},      {"lease-seconds", "inf"},
      {"lease-seconds", "nan"},          {"lease-seconds", "1e400"},     {"lease-seconds", " 5"},
      {"job-timeout", "1e300"},          {"job-timeout", "-1"},          {"stop-timeout-seconds", "1e300"},
      {"backoff-base", "1e200"},         {"backoff-base", "0.5"},        {"backoff-max", "1e308"},
      {"max-recoveries", "1e9"},         {"max-recoveries", "2.5"},      {"max-retries", "1001"},
      {"poll-interval-ms", "0"},         {"poll-interval-ms", "1e10"},   {"max-retries", "0x10"},
  };
  for (const auto& [key, value] : cases) {
    queue_config c;
    const std::string before = c.get(key);
    BOOST_CHECK_EXCEPTION(c.set(key, value), error, invalid);
    BOOST_TEST(c.get(key) == before, key << " " << value);
  }
  queue_config c;
  c.set("lease-seconds", "86400");
  BOOST_TEST(c.lease_seconds == 86400);
  c.set("max_retries", "1e3");  // an integer written with an exponent is still an integer
  BOOST_TEST(c.max_retries == 1000);
}

BOOST_AUTO_TEST_CASE(stored_out_of_bounds_entries_fall_back_to_defaults) {
  // A database written before the bounds existed may hold 1e300: it must not reach a lease.
  const queue_config c = queue_config::from_entries({{"lease-seconds", "1e300"}, {"job-timeout", "1e-9"}});
  BOOST_TEST(c.lease_seconds == queue_config{}.lease_seconds);
  BOOST_TEST(c.job_timeout == 1e-9);  // in bounds (0..one year): kept
}

BOOST_AUTO_TEST_CASE(job_fields_use_the_same_table) {
  const char* bad[] = {
      R"({"command":"x","timeout":1e10})",      R"({"command":"x","timeout":1e300})",
      R"({"command":"x","priority":2e9})",      R"({"command":"x","priority":1.5})",
      R"({"command":"x","max_retries":1e300})", R"({"command":"x","run_at":1e300})",
      R"({"command":"x","run_at":-1})",         R"({"command":"x","run_at":"3001-01-01T00:00:00Z"})",
      R"({"id":".","command":"x"})",            R"({"id":"..","command":"x"})",
      R"({"id":"a/b","command":"x"})",          R"({"command":"x","queue":".."})",
  };
  for (const char* spec : bad) BOOST_CHECK_EXCEPTION(parse_job_spec(spec), error, invalid);
  BOOST_TEST(parse_job_spec(R"({"id":".a..b","command":"x","timeout":31536000,"priority":-1000000000})").id == ".a..b");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flag_overrides)

BOOST_AUTO_TEST_CASE(a_flag_is_checked_like_its_field_and_named_in_the_error) {
  const auto message_of = [](auto&& f) {
    try {
      f();
    } catch (const error& e) {
      return e.id() + " " + e.message();
    }
    return std::string("no error");
  };
  spec_overrides o;
  BOOST_TEST(message_of([&] { o.set_json("timeout", "1e10", "--timeout"); }).rfind("queuectl.spec.timeout --timeout: must be", 0) == 0);
  BOOST_TEST(message_of([&] { o.set_json("priority", "high", "--priority"); }) ==
             "queuectl.spec.priority --priority: 'high' is not a number");
  BOOST_TEST(message_of([&] { o.set_json("priority", "\"5\"", "--priority"); }).find("is not a number") != std::string::npos);
  BOOST_TEST(message_of([&] { o.set_json("max_retries", "-1", "--max-retries"); }).find("--max-retries: must be") != std::string::npos);
  BOOST_TEST(message_of([&] { o.set_string("queue", "no spaces", "--queue"); }).find("--queue: must be") != std::string::npos);
  BOOST_TEST(o.empty());  // nothing invalid was kept

  o.set_json("timeout", "2.5", "--timeout");
  o.set_json("priority", "7", "--priority");
  o.set_json("priority", "8", "--priority");  // the last one wins
  const job_spec s = parse_job_spec(R"({"command":"x","timeout":1,"priority":1})", {}, &o);
  BOOST_TEST(*s.timeout == 2.5);
  BOOST_TEST(s.priority == 8);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(saturation)

BOOST_AUTO_TEST_CASE(seconds_to_milliseconds_clamps_instead_of_overflowing) {
  BOOST_TEST(saturating_ms(1.5).count() == 1500);
  BOOST_TEST(saturating_ms(1e300) == max_duration);
  BOOST_TEST(saturating_ms(inf) == max_duration);
  BOOST_TEST(saturating_ms(std::nan("")).count() == 0);
  BOOST_TEST(saturating_ms(-5).count() == 0);
  BOOST_TEST(saturating_ms(1e-9).count() == 0);
}

BOOST_AUTO_TEST_CASE(adding_to_a_time_never_wraps_into_the_past) {
  const time_point t = from_ms(1'700'000'000'000);
  BOOST_TEST(to_ms(saturating_add(t, 1500ms)) == 1'700'000'001'500);
  BOOST_TEST(to_ms(saturating_add(t, max_duration)) == max_time_ms);
  BOOST_TEST(to_ms(saturating_add(t, milliseconds(std::numeric_limits<std::int64_t>::max()))) == max_time_ms);
  BOOST_TEST(to_ms(saturating_add(t, -5000ms)) == to_ms(t));
  BOOST_TEST(to_rfc3339(from_ms(max_time_ms)) == "9999-12-31T23:59:59.999Z");
  const auto s = std::chrono::steady_clock::now();
  BOOST_TEST((saturating_deadline(s, milliseconds(std::numeric_limits<std::int64_t>::max())) > s));
  BOOST_TEST((saturating_deadline(s, 10ms) - s == 10ms));
}

BOOST_AUTO_TEST_CASE(backoff_with_huge_settings_waits_the_cap_never_a_negative_time) {
  // Formerly: base 1e200, max 1e308 made pow() inf and llround() undefined, run_at negative.
  exponential_backoff e{1e200, 1e308};
  for (int n : {1, 2, 5, 1000}) BOOST_TEST(e.delay(n) == max_duration);
  exponential_backoff in_bounds{bounds::backoff_base.max, bounds::backoff_max.max};
  BOOST_TEST(in_bounds.delay(1000) == saturating_ms(bounds::backoff_max.max));
  linear_backoff l{milliseconds(std::numeric_limits<std::int64_t>::max() / 2), max_duration};
  BOOST_TEST(l.delay(1000) == max_duration);
  jittered<exponential_backoff> j{e, 0.2};
  BOOST_TEST(j.delay(3).count() > 0);
}

BOOST_AUTO_TEST_CASE(a_retry_after_the_largest_bounds_is_still_in_the_future) {
  auto fail = [](const job&, const execution_context&) { return attempt_result::failure("no"); };
  using q_t = basic_queue<memory_storage_mt, exponential_backoff, function_executor<decltype(fail)>>;
  q_t q(function_executor<decltype(fail)>(fail), exponential_backoff{});
  q.set_config("backoff-base", "1000");
  q.set_config("backoff-max", std::to_string(static_cast<long long>(bounds::backoff_max.max)));
  job_spec s;
  s.command = "x";
  s.max_retries = 5;
  const auto id = q.enqueue(std::move(s));
  const time_point before = now();
  BOOST_TEST_REQUIRE(q.run_once("w"));
  const job j = q.get(id);
  BOOST_TEST(j.state == job_state::failed);
  BOOST_TEST((j.run_at - before >= milliseconds(1000 * 1000 - 1000)));  // 1000^1 s, not negative
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_parsing)

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_with_a_reason_not_a_crash) {
  rapidjson::Document d;
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  BOOST_TEST(parse_json(d, deep) == "nested deeper than 64 levels at offset 64");
  const std::string unclosed = std::string(100000, '{');
  BOOST_TEST(is_depth_reason(parse_json(d, unclosed)));
  const std::string at_limit = std::string(64, '[') + std::string(64, ']');
  BOOST_TEST(parse_json(d, at_limit).empty());
  BOOST_TEST(parse_json(d, R"(["[[[[[", "\"{{{{"])").empty());  // brackets in strings do not count
  BOOST_TEST(is_encoding_reason(parse_json(d, "\"\xff\"")));
  BOOST_TEST(parse_json(d, "{} x").rfind("malformed JSON at offset", 0) == 0);
  BOOST_CHECK_EXCEPTION(parse_job_spec(R"({"command":"x","payload":)" + std::string(100000, '[')), error,
                        [](const error& e) { return e.id() == "queuectl.spec.too_deep"; });
  BOOST_CHECK_EXCEPTION(parse_job_specs_jsonl("{\"command\":\"x\"}\n" + deep + "\n"), error, [](const error& e) {
    return e.id() == "queuectl.spec.too_deep" && e.message().rfind("line 2: nested deeper", 0) == 0;
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(error_lines)

BOOST_AUTO_TEST_CASE(control_characters_and_bad_utf8_are_escaped) {
  BOOST_TEST(printable_line("no job 'a\x1b[2Jb'") == "no job 'a\\x1b[2Jb'");
  BOOST_TEST(printable_line("a\nb\rc\td") == "a\\x0ab\\x0dc\\x09d");
  BOOST_TEST(printable_line("x\x7fy") == "x\\x7fy");
  BOOST_TEST(printable_line("back\\slash") == "back\\\\slash");
  BOOST_TEST(printable_line("caf\xc3\xa9 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x82\xac");  // UTF-8 kept
  BOOST_TEST(printable_line("c1 \xc2\x9b" "31m") == "c1 \\u009b31m");                   // CSI as C1
  BOOST_TEST(printable_line("bad \xff\xfe") == "bad \\xff\\xfe");
  BOOST_TEST(printable_line("cut \xe2\x82") == "cut \\xe2\\x82");
  BOOST_TEST(printable_line("surrogate \xed\xa0\x80") == "surrogate \\xed\\xa0\\x80");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_surrogates)

// RapidJSON 1.1 decodes a lone low surrogate escape into invalid UTF-8, which then went into
// the database and every JSON answer (found by tests/fuzz/fuzz_job_spec).
BOOST_AUTO_TEST_CASE(a_lone_low_surrogate_escape_is_refused) {
  rapidjson::Document d;
  BOOST_TEST(is_encoding_reason(parse_json(d, R"(["\ude00"])")));
  BOOST_TEST(is_encoding_reason(parse_json(d, R"(["a\u0041\uDFFF"])")));
  BOOST_TEST(parse_json(d, R"(["\ud83d\ude00", "\\ude00", "\u20ac"])").empty());  // a pair; an escaped backslash
  BOOST_TEST(is_encoding_reason(parse_json(d, R"(["\ud83d"])")));                // high alone: RapidJSON's own check
  BOOST_CHECK_EXCEPTION(parse_job_spec(R"({"command":"caf\u00e9 \u20ac comm3d\ude00"})"), error,
                        [](const error& e) { return e.id() == "queuectl.spec.encoding"; });
}

BOOST_AUTO_TEST_SUITE_END()
