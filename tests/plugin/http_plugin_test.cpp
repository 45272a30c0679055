// The http plugin, loaded for real and called directly against a scripted local server:
// status mapping, Retry-After, timeouts and cancel, redirects, output cap, TLS (CA, SNI,
// host name), keep-alive reuse, payload validation. Plus the Beast-free spec helpers.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "http_spec.hpp"
#include "http_test_server.hpp"
#include "printers.hpp"
#include "queuectl/plugin/loader.hpp"
#include "wait_until.hpp"

using namespace queuectl;
using namespace std::chrono_literals;
using test::http_test_server;

namespace {

std::shared_ptr<executor_plugin> http() {
  static auto p = plugin_loader({QUEUECTL_TEST_PLUGIN_DIR}).load_executor("http");
  return p;
}

/// A payload for `url` with extra members, e.g. R"("timeout": 1)".
std::string payload(const std::string& url, const std::string& extra = "") {
  return R"({"url":")" + url + "\"" + (extra.empty() ? "" : "," + extra) + "}";
}

attempt_result call(const std::string& payload_json, execution_context ctx = {}) {
  job j;
  j.executor = "http";
  j.payload = payload_json;
  return http()->execute(j, ctx);
}

std::string check(const std::string& payload_json) {
  job_spec s;
  s.executor = "http";
  s.payload = payload_json;
  return http()->validate(s);
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
std::uint16_t closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

/// Sets QUEUECTL_HTTP_CA_FILE for one scope.
struct ca_env {
  explicit ca_env(const std::string& file) { ::setenv("QUEUECTL_HTTP_CA_FILE", file.c_str(), 1); }
  ~ca_env() { ::unsetenv("QUEUECTL_HTTP_CA_FILE"); }
};

/// One throwaway CA + server certificate per test run (made with the openssl CLI), removed
/// when the test program exits.
const test::tls_files& pki() {
  struct temp_pki {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("queuectl-http-test-" + std::to_string(::getpid()));
    test::tls_files files = test::make_test_pki(dir, "DNS:localhost");
    ~temp_pki() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  };
  static const temp_pki pki;
  return pki.files;
}

struct server_fixture {
  http_test_server server;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_plugin)

BOOST_AUTO_TEST_CASE(loads_with_its_name) { BOOST_TEST(http()->name() == "http"); }

BOOST_FIXTURE_TEST_CASE(ok_is_success_with_status_headers_and_body, server_fixture) {
  const auto r = call(payload(server.url("/ok")));
  BOOST_TEST(r.success, r.error);
  BOOST_TEST(r.error.empty());
  BOOST_TEST(r.output == "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\nok");
}

BOOST_FIXTURE_TEST_CASE(server_error_is_retryable_and_the_retry_succeeds, server_fixture) {
  const auto first = call(payload(server.url("/flaky")));
  BOOST_TEST(!first.success);
  BOOST_TEST(!first.permanent);
  BOOST_TEST(!first.timed_out);
  BOOST_TEST(first.error == "HTTP 500 Internal Server Error");
  BOOST_TEST(!first.retry_after.has_value());
  BOOST_TEST(contains(first.output, "try again"));
  const auto second = call(payload(server.url("/flaky")));
  BOOST_TEST(second.success, second.error);
  BOOST_TEST(server.hits("/flaky") == 2);
}

BOOST_FIXTURE_TEST_CASE(too_many_requests_sets_retry_after_from_delta_seconds, server_fixture) {
  const auto r = call(payload(server.url("/limited")));
  BOOST_TEST(!r.success);
  BOOST_TEST(!r.permanent);
  BOOST_TEST(r.error == "HTTP 429 Too Many Requests");
  BOOST_TEST(contains(r.output, "Retry-After: 1\n"));
  // The retry timing the queue will use: exactly the server's 1 s instead of the backoff.
  BOOST_REQUIRE(r.retry_after.has_value());
  BOOST_TEST(r.retry_after->count() == 1000);
}

BOOST_FIXTURE_TEST_CASE(retry_after_as_http_date, server_fixture) {
  const auto r = call(payload(server.url("/limited-date")));
  BOOST_TEST(r.error == "HTTP 503 Service Unavailable");
  BOOST_TEST(!r.permanent);
  BOOST_REQUIRE(r.retry_after.has_value());
  // "now + 2 s" with one-second resolution on both sides.
  BOOST_TEST(r.retry_after->count() >= 900);
  BOOST_TEST(r.retry_after->count() <= 2100);
}

BOOST_FIXTURE_TEST_CASE(client_error_is_permanent, server_fixture) {
  const auto r = call(payload(server.url("/missing")));
  BOOST_TEST(!r.success);
  BOOST_TEST(r.permanent);
  BOOST_TEST(r.error == "HTTP 404 Not Found");
  BOOST_TEST(contains(r.output, "no such thing"));
}

BOOST_FIXTURE_TEST_CASE(hang_times_out_after_the_payload_timeout, server_fixture) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = call(payload(server.url("/hang"), R"("timeout": 1)"));
  const double took = seconds_since(t0);
  BOOST_TEST(!r.success);
  BOOST_TEST(r.timed_out);
  BOOST_TEST(!r.permanent);
  BOOST_TEST(r.error == "timed out after 1s");
  BOOST_TEST(took >= 0.9);
  BOOST_TEST(took < 3.0);
}

BOOST_FIXTURE_TEST_CASE(job_timeout_applies_and_caps_the_payload_timeout, server_fixture) {
  execution_context ctx;
  ctx.timeout = 0.5;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = call(payload(server.url("/hang"), R"("timeout": 10)"), ctx);
  BOOST_TEST(r.timed_out);
  BOOST_TEST(r.error == "timed out after 0.5s");
  BOOST_TEST(seconds_since(t0) < 2.5);
}

BOOST_FIXTURE_TEST_CASE(stop_request_cancels_a_pending_call, server_fixture) {
  std::stop_source stop;
  execution_context ctx;
  ctx.stop = stop.get_token();
  auto pending = std::async(std::launch::async, [&] { return call(payload(server.url("/hang")), ctx); });
  BOOST_REQUIRE(test::wait_until([&] { return server.hits("/hang") == 1; }, 5000ms));
  const auto t0 = std::chrono::steady_clock::now();
  stop.request_stop();
  BOOST_REQUIRE(pending.wait_for(2s) == std::future_status::ready);
  BOOST_TEST(seconds_since(t0) < 1.0);
  const auto r = pending.get();
  BOOST_TEST(!r.success);
  BOOST_TEST(!r.timed_out);
  BOOST_TEST(!r.permanent);
  BOOST_TEST(r.error == "canceled");
}

BOOST_AUTO_TEST_CASE(connection_refused_is_retryable) {
  const auto r = call(payload("http://127.0.0.1:" + std::to_string(closed_port()) + "/x"));
  BOOST_TEST(!r.success);
  BOOST_TEST(!r.permanent);
  BOOST_TEST(!r.timed_out);
  BOOST_TEST_MESSAGE("refused: " << r.error);
  BOOST_TEST(contains(r.error, "connect to 127.0.0.1:"), r.error);
  BOOST_TEST(contains(r.error, "refused"), r.error);
}

BOOST_FIXTURE_TEST_CASE(redirect_is_followed, server_fixture) {
  const auto r = call(payload(server.url("/redir")));
  BOOST_TEST(r.success, r.error);
  BOOST_TEST(contains(r.output, "\n\nok"));
  BOOST_TEST(server.hits("/ok") == 1);
}

BOOST_FIXTURE_TEST_CASE(see_other_turns_a_post_into_a_get, server_fixture) {
  const auto r = call(payload(server.url("/see-other"), R"("method":"POST","body":{"a":1})"));
  BOOST_TEST(r.success, r.error);
  BOOST_TEST(contains(r.output, "GET /echo\n"), r.output);
  BOOST_TEST(!contains(r.output, "application/json"), r.output);
}

BOOST_FIXTURE_TEST_CASE(redirect_loop_fails_permanently, server_fixture) {
  const auto r = call(payload(server.url("/loop")));
  BOOST_TEST(!r.success);
  BOOST_TEST(r.permanent);
  BOOST_TEST_MESSAGE("loop: " << r.error);
  BOOST_TEST(contains(r.error, "redirect"), r.error);
  BOOST_TEST(server.hits("/loop") == 1);  // noticed without asking again
}

BOOST_FIXTURE_TEST_CASE(too_many_redirects_fail_permanently, server_fixture) {
  const auto r = call(payload(server.url("/chain/0")));
  BOOST_TEST(!r.success);
  BOOST_TEST(r.permanent);
  BOOST_TEST(r.error == "too many redirects (5)");
  BOOST_TEST(server.hits("/chain/5") == 1);
  BOOST_TEST(server.hits("/chain/6") == 0);
}

BOOST_FIXTURE_TEST_CASE(big_body_is_capped_with_a_marker, server_fixture) {
  const auto r = call(payload(server.url("/big")));
  BOOST_TEST(r.success, r.error);
  BOOST_TEST(r.output.size() < 64 * 1024 + 512);
  BOOST_TEST(contains(r.output, std::string(64 * 1024, 'x')));
  BOOST_TEST(contains(r.output, "[... body truncated: " + std::to_string((1u << 20) - 64 * 1024) + " bytes not shown"),
             r.output.substr(r.output.size() - 200));
  // The whole body was read, so the connection is still good for the next call.
  BOOST_TEST(call(payload(server.url("/ok"))).success);
  BOOST_TEST(server.connections() == 1);
}

BOOST_FIXTURE_TEST_CASE(method_headers_and_bodies_are_sent, server_fixture) {
  auto r = call(payload(server.url("/echo?q=1"), R"("method":"put","headers":{"X-Token":"abc"},"body":"plain text")"));
  BOOST_TEST(r.success, r.error);
  BOOST_TEST(contains(r.output, "PUT /echo?q=1\n"), r.output);
  BOOST_TEST(contains(r.output, "X-Token: abc\n"), r.output);
  BOOST_TEST(contains(r.output, "\n\nplain text"), r.output);
  r = call(payload(server.url("/echo"), R"("method":"POST","body":{"n":[1,2]})"));
  BOOST_TEST(contains(r.output, "Content-Type: application/json\n"), r.output);
  BOOST_TEST(contains(r.output, "\n\n{\"n\":[1,2]}"), r.output);
  r = call(payload(server.url("/ok"), R"("method":"HEAD")"));
  BOOST_TEST(r.success, r.error);
  BOOST_TEST(r.output == "HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 2\n\n");
}

BOOST_FIXTURE_TEST_CASE(keep_alive_connection_is_reused_per_thread, server_fixture) {
  for (int i = 0; i < 5; ++i) BOOST_TEST(call(payload(server.url("/ok"))).success);
  BOOST_TEST(server.connections() == 1);
}

BOOST_FIXTURE_TEST_CASE(connection_closed_by_the_server_is_replaced, server_fixture) {
  BOOST_TEST(call(payload(server.url("/bye"))).success);
  // The server closed the kept-alive connection (its FIN may or may not have arrived yet);
  // the next call must not fail because of it.
  for (int i = 0; i < 3; ++i) {
    const auto r = call(payload(server.url("/ok")));
    BOOST_TEST(r.success, r.error);
  }
  BOOST_TEST(server.connections() == 2);
}

BOOST_FIXTURE_TEST_CASE(concurrent_calls_from_several_threads, server_fixture) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ok += call(payload(server.url(i % 2 ? "/ok" : "/redir"))).success;
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(ok.load() == 200);
  BOOST_TEST(server.connections() <= 4);  // one kept-alive connection per thread
}

BOOST_AUTO_TEST_CASE(https_with_the_test_ca_succeeds_and_sends_sni) {
  http_test_server server(pki());
  ca_env env(pki().ca_cert);
  const auto r = call(payload(server.url("/ok", "localhost")));
  BOOST_TEST(r.success, r.error);
  BOOST_TEST(contains(r.output, "\n\nok"));
  BOOST_TEST(server.last_sni() == "localhost");
  for (int i = 0; i < 3; ++i) BOOST_TEST(call(payload(server.url("/ok", "localhost"))).success);
  BOOST_TEST(server.connections() == 1);  // TLS connections are kept alive too
}

BOOST_AUTO_TEST_CASE(https_without_the_ca_fails_certificate_verification) {
  http_test_server server(pki());
  ::unsetenv("QUEUECTL_HTTP_CA_FILE");
  const auto r = call(payload(server.url("/ok", "localhost")));
  BOOST_TEST(!r.success);
  BOOST_TEST(!r.permanent);
  BOOST_TEST_MESSAGE("no CA: " << r.error);
  BOOST_TEST(contains(r.error, "certificate verification failed"), r.error);
  BOOST_TEST(server.hits("/ok") == 0);
}

BOOST_AUTO_TEST_CASE(https_checks_the_host_name) {
  http_test_server server(pki());  // the certificate names localhost only
  ca_env env(pki().ca_cert);
  const auto r = call(payload(server.url("/ok", "127.0.0.1")));
  BOOST_TEST(!r.success);
  BOOST_TEST_MESSAGE("wrong name: " << r.error);
  BOOST_TEST(contains(r.error, "does not match host 127.0.0.1"), r.error);
}

BOOST_AUTO_TEST_CASE(unreadable_ca_file_is_reported) {
  http_test_server server(pki());
  ca_env env("/nonexistent/ca.pem");
  const auto r = call(payload(server.url("/ok", "localhost")));
  BOOST_TEST(!r.success);
  BOOST_TEST(!r.permanent);  // a host configuration problem: fixable before the retry
  BOOST_TEST(contains(r.error, "QUEUECTL_HTTP_CA_FILE=/nonexistent/ca.pem: cannot load the CA file"), r.error);
}

BOOST_AUTO_TEST_CASE(validate_rejects_each_bad_payload_kind) {
  const std::string url = "http://127.0.0.1:8080/x";
  BOOST_TEST(check(payload(url)) == "");
  BOOST_TEST(check(payload("https://example.com", R"("method":"POST","headers":{"A":"b"},"body":{"x":1},"timeout":2.5)")) == "");
  const std::pair<std::string, std::string> bad[] = {
      {"{}", "payload.url: required"},
      {R"({"url": 5})", "payload.url: must be a string"},
      {payload("ftp://host/x"), "payload.url: scheme must be http or https"},
      {payload("127.0.0.1:8080/x"), "payload.url: must be an absolute URL"},
      {payload("http:///x"), "payload.url: missing host"},
      {payload("http://ho st/x"), "payload.url: must not contain spaces"},
      {payload("http://h$st/x"), "payload.url: unparsable host"},
      {payload("http://host:99999/x"), "payload.url: port must be a number from 1 to 65535"},
      {payload("http://host:abc/x"), "payload.url: port must be a number"},
      {payload("http://user:pw@host/x"), "payload.url: credentials in the URL are not supported"},
      {payload(url, R"("method":"FETCH")"), "payload.method: must be one of GET HEAD POST PUT PATCH DELETE OPTIONS"},
      {payload(url, R"("method":1)"), "payload.method: must be a string"},
      {payload(url, R"("headers":["a"])"), "payload.headers: must be an object of strings"},
      {payload(url, R"("headers":{"A":1})"), "payload.headers.A: must be a string"},
      {payload(url, R"("headers":{"Bad Name":"x"})"), "payload.headers.Bad Name: not a valid header name"},
      {payload(url, R"("headers":{"A":"x\r\nB: y"})"), "payload.headers.A: must not contain CR, LF or NUL"},
      {payload(url, R"("headers":{"Content-Length":"3"})"), "payload.headers.Content-Length: set by the executor"},
      {payload(url, R"("timeout":0)"), "payload.timeout: must be a positive number"},
      {payload(url, R"("timeout":-1)"), "payload.timeout: must be a positive number"},
      {payload(url, R"("timeout":"5")"), "payload.timeout: must be a positive number"},
      {payload(url, R"("hedaers":{})"), "payload.hedaers: unknown field"},
      {"[1]", "payload: must be a JSON object"},
      {"{nope", "payload: not valid JSON"},
      {payload(url, R"("timeout":1e300)"), "payload.timeout: must be a positive number of seconds up to 31536000"},
      {payload(url, R"("body":)" + std::string(100000, '[')), "payload: not valid JSON: nested deeper than 64"},
  };
  for (const auto& [p, want] : bad) {
    const std::string got = check(p);
    BOOST_TEST(got.rfind(want, 0) == 0, p << " -> '" << got << "' (want '" << want << "...')");
    BOOST_TEST(got.find('\n') == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(execute_revalidates_and_fails_permanently) {
  const auto r = call(payload("ftp://host/x"));
  BOOST_TEST(!r.success);
  BOOST_TEST(r.permanent);
  BOOST_TEST(r.error == "payload.url: scheme must be http or https");
}

BOOST_AUTO_TEST_CASE(already_stopped_call_does_nothing) {
  std::stop_source stop;
  stop.request_stop();
  execution_context ctx;
  ctx.stop = stop.get_token();
  const auto r = call(payload("http://127.0.0.1:" + std::to_string(closed_port()) + "/"), ctx);
  BOOST_TEST(r.error == "canceled");
}

BOOST_AUTO_TEST_SUITE_END()

// The Beast-free helpers, directly.
BOOST_AUTO_TEST_SUITE(http_spec)

namespace spec = queuectl::http_executor;

BOOST_AUTO_TEST_CASE(retry_after_formats) {
  using std::chrono::milliseconds;
  // Sun, 06 Nov 1994 08:49:37 GMT
  const auto at = std::chrono::system_clock::from_time_t(784111777);
  BOOST_TEST((spec::parse_retry_after("120", at) == milliseconds(120000)));
  BOOST_TEST((spec::parse_retry_after(" 0 ", at) == milliseconds(0)));
  BOOST_TEST((spec::parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT", at) == milliseconds(3000)));
  BOOST_TEST((spec::parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", at) == milliseconds(10000)));
  BOOST_TEST((spec::parse_retry_after("Sun Nov  6 08:50:37 1994", at) == milliseconds(60000)));
  BOOST_TEST((spec::parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", at) == milliseconds(0)));  // past
  BOOST_TEST((spec::parse_retry_after("99999999999999999999", at) == milliseconds(30LL * 24 * 3600 * 1000)));
  BOOST_TEST(!spec::parse_retry_after("soon", at).has_value());
  BOOST_TEST(!spec::parse_retry_after("-5", at).has_value());
  BOOST_TEST(!spec::parse_retry_after("Sun, 06 Nov 1994 08:49:40 GMT junk", at).has_value());
  BOOST_TEST(!spec::parse_retry_after("Sun, 06 Foo 1994 08:49:40 GMT", at).has_value());
  // Years the clock's nanoseconds cannot hold (found by tests/fuzz/fuzz_http_payload: UB).
  BOOST_TEST((spec::parse_retry_after("Sun, 06 Nov 0997 08:49:37 GMT", at) == milliseconds(0)));
  BOOST_TEST((spec::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", at) == milliseconds(30LL * 24 * 3600 * 1000)));
}

BOOST_AUTO_TEST_CASE(urls) {
  auto u = spec::parse_url("HTTPS://Example.COM/a/b?c=d#frag");
  BOOST_REQUIRE(u.value.has_value());
  BOOST_TEST(u.value->host == "example.com");
  BOOST_TEST(u.value->port == 443);
  BOOST_TEST(u.value->target == "/a/b?c=d");
  BOOST_TEST(u.value->authority() == "example.com");
  u = spec::parse_url("http://[::1]:8080?x");
  BOOST_REQUIRE(u.value.has_value());
  BOOST_TEST(u.value->host == "::1");
  BOOST_TEST(u.value->target == "/?x");
  BOOST_TEST(u.value->authority() == "[::1]:8080");
}

BOOST_AUTO_TEST_CASE(redirect_locations) {
  const auto base = *spec::parse_url("http://h:81/a/b?q").value;
  const auto to = [&](const char* loc) { return spec::resolve_location(base, loc).value->str(); };
  BOOST_TEST(to("/x") == "http://h:81/x");
  BOOST_TEST(to("c") == "http://h:81/a/c");
  BOOST_TEST(to("?z") == "http://h:81/a/b?z");
  BOOST_TEST(to("//other/y") == "http://other/y");
  BOOST_TEST(to("https://s/") == "https://s/");
  BOOST_TEST(!spec::resolve_location(base, "ftp://s/").value.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
