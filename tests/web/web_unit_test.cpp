// The web component without a socket: the route table against /openapi.json (every route
// documented, nothing documented that does not exist), routing (404/405, path
// parameters), query strings, cursors, paging stability under inserts and deletes, the
// per-minute buckets, and the security checks of web_app.
#include <boost/test/unit_test.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>

#include "assets.hpp"
#include "host_queue.hpp"
#include "job_query.hpp"
#include "router.hpp"
#include "web_app.hpp"

using namespace queuectl;
using namespace queuectl::web;

namespace {

/// A queue in a fresh temporary SQLite file.
struct temp_queue {
  std::filesystem::path dir;
  std::unique_ptr<app::host_queue> q;
  temp_queue() {
    dir = std::filesystem::temp_directory_path() /
          ("queuectl-web-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(dir);
    q = app::open_host_queue((dir / "queue.db").string());
  }
  ~temp_queue() {
    q.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
  void add(const std::string& id, const std::string& command = "true", const std::string& executor = "shell") {
    job_spec s;
    s.id = id;
    s.command = command;
    s.executor = executor;
    q->enqueue(std::move(s));
  }
};

http_request request(std::string method, std::string target, std::string body = {}) {
  http_request r;
  r.method = std::move(method);
  r.target = target;
  const auto qm = target.find('?');
  r.path = target.substr(0, qm);
  if (qm != std::string::npos) r.query = target.substr(qm + 1);
  r.body = std::move(body);
  r.headers.emplace_back("host", "127.0.0.1:8080");
  if (!r.body.empty()) r.headers.emplace_back("content-type", "application/json");
  return r;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "not JSON: " << text);
  return d;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(web)

BOOST_AUTO_TEST_CASE(every_route_is_in_the_openapi_document_and_back) {
  temp_queue tq;
  web_app app(*tq.q, "");
  const auto routes = app.routes();
  BOOST_REQUIRE_GT(routes.size(), 15u);

  const asset* doc_asset = nullptr;
  for (const auto& a : embedded_assets())
    if (a.path == "/openapi.json") doc_asset = &a;
  BOOST_REQUIRE(doc_asset);
  const auto doc = parse(std::string(doc_asset->body));
  BOOST_TEST(std::string(doc["openapi"].GetString()).rfind("3.", 0) == 0);
  const auto& paths = doc["paths"];

  std::set<std::pair<std::string, std::string>> served, documented;
  for (const auto& r : routes) {
    served.insert({r.method, r.pattern});
    BOOST_TEST_CONTEXT(r.method << " " << r.pattern) {
      BOOST_TEST(paths.HasMember(r.pattern.c_str()));
      if (paths.HasMember(r.pattern.c_str())) BOOST_TEST(paths[r.pattern.c_str()].HasMember(lower(r.method).c_str()));
    }
  }
  for (auto p = paths.MemberBegin(); p != paths.MemberEnd(); ++p)
    for (auto m = p->value.MemberBegin(); m != p->value.MemberEnd(); ++m) {
      std::string method = m->name.GetString();
      if (method == "parameters") continue;
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert({method, p->name.GetString()});
    }
  for (const auto& d : documented)
    BOOST_TEST_CONTEXT(d.first << " " << d.second) { BOOST_TEST(served.count(d) == 1u, "documented but not served"); }

  // The document served at /openapi.json is that one.
  const http_response r = app.handle(request("GET", "/openapi.json"));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body == std::string(doc_asset->body));
}

BOOST_AUTO_TEST_CASE(router_404_405_and_path_parameters) {
  router r;
  r.add("GET", "/api/jobs/{id}", [](const http_request&, const route_params& p) {
    http_response res;
    res.body = p.at("id");
    return res;
  });
  r.add("DELETE", "/api/jobs/{id}", [](const http_request&, const route_params&) { return http_response{}; });
  BOOST_TEST(!r.dispatch(request("GET", "/api/nope")).has_value());
  BOOST_TEST(!r.dispatch(request("GET", "/api/jobs/")).has_value());  // empty segment never matches
  BOOST_TEST(r.dispatch(request("GET", "/api/jobs/a%3Ab"))->body == "a:b");
  const auto res = r.dispatch(request("POST", "/api/jobs/x"));
  BOOST_REQUIRE(res.has_value());
  BOOST_TEST(res->status == 405);
  BOOST_TEST(res->headers.at(0).first == "Allow");
  BOOST_TEST(res->headers.at(0).second == "GET, DELETE");
}

BOOST_AUTO_TEST_CASE(query_strings) {
  const auto q = parse_query("state=dead&q=a+b%2Fc&empty=&flag");
  BOOST_TEST(q.at("state") == "dead");
  BOOST_TEST(q.at("q") == "a b/c");
  BOOST_TEST(q.at("empty") == "");
  BOOST_TEST(q.at("flag") == "");
  BOOST_CHECK_THROW(parse_query("a=%zz"), http_error);
  BOOST_CHECK_THROW(parse_query("a=%4"), http_error);
  BOOST_CHECK_THROW(parse_query("a=1&a=2"), http_error);
  BOOST_TEST(*percent_decode("a+b", false) == "a+b");
}

BOOST_AUTO_TEST_CASE(cursors_round_trip_and_reject_garbage) {
  const page_cursor c{123456789012LL, 42, false};
  const auto back = decode_cursor(encode_cursor(c));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->seq == c.seq);
  BOOST_TEST(back->offset_hint == c.offset_hint);
  BOOST_TEST(back->newest_first == false);
  for (const std::string& bad : std::vector<std::string>{"", "!!", "djE6", "bm9wZQ", std::string(200, 'A')})
    BOOST_TEST(!decode_cursor(bad).has_value());
}

BOOST_AUTO_TEST_CASE(paging_sees_every_job_once_while_jobs_come_and_go) {
  temp_queue tq;
  for (int i = 0; i < 60; ++i) tq.add("j" + std::to_string(i), i % 3 ? "echo fine" : "echo special");
  std::vector<std::string> seen;
  job_query q;
  q.limit = 7;
  int pages = 0;
  for (;;) {
    const job_page page = query_jobs(*tq.q, q);
    for (const auto& j : page.jobs) seen.push_back(j.id);
    ++pages;
    if (pages == 2) {
      tq.add("late1");                  // newer than the cursor: not on later pages
      tq.q->remove("j3");               // older than the cursor: offsets shift
      tq.q->remove(seen.front());       // already seen
    }
    if (!page.next_cursor) break;
    q.after = decode_cursor(*page.next_cursor);
    BOOST_REQUIRE(q.after.has_value());
  }
  const std::set<std::string> unique(seen.begin(), seen.end());
  BOOST_TEST(unique.size() == seen.size(), "a job appeared twice");
  BOOST_TEST(seen.size() == 59u);  // 60 - j3; late1 came in ahead of the cursor
  BOOST_TEST(!unique.count("j3"));
  BOOST_TEST(seen.front() == "j59");  // newest first

  // Filters done here (text, executor) page the same way.
  job_query f;
  f.text = "SPECIAL";
  f.limit = 4;
  std::size_t n = 0;
  for (;;) {
    const job_page page = query_jobs(*tq.q, f);
    for (const auto& j : page.jobs) BOOST_TEST(j.command == "echo special");
    n += page.jobs.size();
    if (!page.next_cursor) break;
    f.after = decode_cursor(*page.next_cursor);
  }
  BOOST_TEST(n == 19u);  // i % 3 == 0 over 0..59 is 20, minus j3
  job_query e;
  e.executor = "http";
  BOOST_TEST(query_jobs(*tq.q, e).jobs.empty());
}

BOOST_AUTO_TEST_CASE(search_examines_one_window_of_seqs_and_hands_back_a_cursor) {
  temp_queue tq;
  std::vector<job_spec> specs(20'050);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    specs[i].id = "w" + std::to_string(i);
    specs[i].command = i == 10 ? "echo needle" : "true";
  }
  tq.q->enqueue(specs);
  // Newest first: the first window (20,000 seqs) holds no match; the page is empty but
  // says where to go on, and the next page finds the old job.
  job_query f;
  f.text = "needle";
  const job_page first = query_jobs(*tq.q, f);
  BOOST_TEST(first.jobs.empty());
  BOOST_REQUIRE(first.next_cursor.has_value());
  f.after = decode_cursor(*first.next_cursor);
  const job_page second = query_jobs(*tq.q, f);
  BOOST_REQUIRE(second.jobs.size() == 1u);
  BOOST_TEST(second.jobs.front().id == "w10");
  BOOST_TEST(!second.next_cursor.has_value());
  // Oldest first finds it in the first window; the table goes on past that window.
  job_query o;
  o.text = "needle";
  o.newest_first = false;
  const job_page oldest = query_jobs(*tq.q, o);
  BOOST_REQUIRE(oldest.jobs.size() == 1u);
  BOOST_TEST(oldest.next_cursor.has_value());
  // A forged cursor far out of range is clamped: an empty page, no crash.
  job_query forged;
  forged.text = "needle";
  forged.after = page_cursor{std::numeric_limits<std::int64_t>::min(), 0, true};
  BOOST_TEST(query_jobs(*tq.q, forged).jobs.empty());
  forged.after = page_cursor{std::numeric_limits<std::int64_t>::max(), 0, false};
  BOOST_TEST(query_jobs(*tq.q, forged).jobs.empty());
}

BOOST_AUTO_TEST_CASE(search_text_is_checked_before_it_reaches_the_storage) {
  temp_queue tq;
  tq.add("a%b", "echo 50%");
  web_app app(*tq.q, "");
  BOOST_TEST(app.handle(request("GET", "/api/jobs?q=%00")).status == 400);
  BOOST_TEST(app.handle(request("GET", "/api/jobs?q=" + std::string(257, 'x'))).status == 400);
  const http_response wild = app.handle(request("GET", "/api/jobs?q=%25"));  // "%": itself, not a wildcard
  BOOST_TEST(wild.status == 200);
  BOOST_TEST(wild.body.find("\"a%b\"") != std::string::npos);
  tq.add("plain", "true");
  BOOST_TEST(app.handle(request("GET", "/api/jobs?q=%25")).body.find("plain") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(throughput_buckets_count_finished_attempts) {
  temp_queue tq;
  tq.add("ok1");
  tq.add("ok2");
  job_spec bad;
  bad.id = "bad";
  bad.command = "false";
  bad.max_retries = 1;
  tq.q->enqueue(bad);
  for (int i = 0; i < 3; ++i) {
    auto claimed = tq.q->claim(1, "w");
    BOOST_REQUIRE_EQUAL(claimed.size(), 1u);
    tq.q->report(claimed.front(), "w", claimed.front().id == "bad" ? attempt_result::failure("no") : attempt_result::ok());
  }
  throughput_history h;
  const auto b = h.buckets(*tq.q, now(), 60);
  BOOST_REQUIRE_EQUAL(b.size(), 60u);
  std::size_t ok = 0, failed = 0;
  for (const auto& x : b) ok += x.succeeded, failed += x.failed;
  BOOST_TEST(ok == 2u);
  BOOST_TEST(failed == 1u);
  BOOST_TEST(b.back().succeeded + b[b.size() - 2].succeeded == 2u);  // this minute (or the one just closed)
  // A second call agrees.
  const auto again = h.buckets(*tq.q, now(), 60);
  std::size_t ok2 = 0;
  for (const auto& x : again) ok2 += x.succeeded;
  BOOST_TEST(ok2 == 2u);
}

BOOST_AUTO_TEST_CASE(token_cross_site_and_headers) {
  temp_queue tq;
  web_app app(*tq.q, "s3cret");
  BOOST_TEST(app.handle(request("GET", "/api/status")).status == 401);
  auto authed = request("GET", "/api/status");
  authed.headers.emplace_back("authorization", "Bearer s3cret");
  const http_response ok = app.handle(authed);
  BOOST_TEST(ok.status == 200);
  auto has = [](const http_response& r, const std::string& k, const std::string& v) {
    return std::any_of(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == k && h.second.find(v) != std::string::npos; });
  };
  BOOST_TEST(has(ok, "Content-Security-Policy", "default-src 'self'"));
  BOOST_TEST(has(ok, "X-Content-Type-Options", "nosniff"));
  BOOST_TEST(has(ok, "Referrer-Policy", "no-referrer"));
  auto wrong = request("GET", "/api/status");
  wrong.headers.emplace_back("authorization", "Bearer s3cres");
  BOOST_TEST(app.handle(wrong).status == 401);
  // Static files load without the token (the page then asks for it).
  BOOST_TEST(app.handle(request("GET", "/")).status == 200);
  BOOST_TEST(app.handle(request("GET", "/app.js")).status == 200);

  auto forged = request("POST", "/api/dlq/retry-all");
  forged.headers.emplace_back("authorization", "Bearer s3cret");
  forged.headers.emplace_back("origin", "http://evil.example");
  BOOST_TEST(app.handle(forged).status == 403);
  auto same = request("POST", "/api/dlq/retry-all");
  same.headers.emplace_back("authorization", "Bearer s3cret");
  same.headers.emplace_back("origin", "http://127.0.0.1:8080");
  BOOST_TEST(app.handle(same).status == 200);
  auto fetch_site = request("POST", "/api/dlq/retry-all");
  fetch_site.headers.emplace_back("authorization", "Bearer s3cret");
  fetch_site.headers.emplace_back("sec-fetch-site", "cross-site");
  BOOST_TEST(app.handle(fetch_site).status == 403);
}

BOOST_AUTO_TEST_CASE(host_names_answered) {
  using net::host_of;
  BOOST_TEST(host_of("LocalHost:8080") == "localhost");
  BOOST_TEST(host_of("[::1]:80") == "[::1]");
  BOOST_TEST(host_of("127.0.0.1") == "127.0.0.1");
  for (const char* bad : {"", ":80", "a b", "user@127.0.0.1", "127.0.0.1:80/x", "[::1", "[::1]x", "h:", "h:123456", "h:8a", "[]"})
    BOOST_TEST(host_of(bad).empty(), bad);
  net::host_allowlist hosts;
  hosts.allow_bound("0.0.0.0");
  hosts.allow("Proxy.Example");
  hosts.allow("::2");
  auto allows = [&](const char* h, const char* local = "") {
    const std::string v = h;
    return hosts.allows(&v, local);
  };
  BOOST_TEST(allows("localhost:1"));
  BOOST_TEST(allows("127.0.0.1:8080"));
  BOOST_TEST(allows("[::1]:8080"));
  BOOST_TEST(allows("0.0.0.0:8080"));
  BOOST_TEST(allows("proxy.example"));
  BOOST_TEST(allows("[::2]"));
  BOOST_TEST(allows("192.168.7.7:80", "192.168.7.7"));  // the interface the request came in on
  BOOST_TEST(!allows("rebind.evil:8080"));
  BOOST_TEST(!allows("localhost.evil"));
  BOOST_TEST(!allows("sub.proxy.example"));
  BOOST_TEST(!allows("192.168.7.8", "192.168.7.7"));
  BOOST_TEST(!hosts.allows(nullptr, "127.0.0.1"));
  BOOST_TEST(!net::normalize_allowed_host("x.example:80"));
  BOOST_TEST(!net::normalize_allowed_host("http://x"));
  BOOST_TEST(net::normalize_allowed_host("X.Example").value_or("") == "x.example");
  std::string bad;
  BOOST_TEST(net::split_host_list("a.example, b.example,,bad/x", &bad).size() == 2u);
  BOOST_TEST(bad == "bad/x");

  temp_queue tq;
  web_app app(*tq.q, "");
  auto rebound = request("POST", "/api/jobs", R"({"command":"id"})");
  rebound.headers = {{"host", "rebind.evil:8080"}, {"origin", "http://rebind.evil:8080"}};
  const http_response r = app.handle(rebound);
  BOOST_TEST(r.status == 421);
  BOOST_TEST(r.body.find("queuectl.web.foreign_host") != std::string::npos);
  BOOST_TEST(tq.q->list({}).empty());
  auto page = request("GET", "/");
  page.headers = {{"host", "rebind.evil"}};
  BOOST_TEST(app.handle(page).status == 421);
  page.headers = {};
  BOOST_TEST(app.handle(page).status == 421);  // no Host at all
}

BOOST_AUTO_TEST_CASE(one_bearer_rule) {
  const std::string ok = "Bearer t0k", lower = "bearer t0k", upper = "BEARER t0k", wrong_case = "Bearer T0K",
                    empty = "Bearer ", basic = "Basic dDBr", longer = "Bearer t0kk";
  BOOST_TEST(net::bearer_matches(&ok, "t0k"));
  BOOST_TEST(net::bearer_matches(&lower, "t0k"));
  BOOST_TEST(net::bearer_matches(&upper, "t0k"));
  BOOST_TEST(!net::bearer_matches(&wrong_case, "t0k"));
  BOOST_TEST(!net::bearer_matches(&empty, "t0k"));
  BOOST_TEST(!net::bearer_matches(&basic, "t0k"));
  BOOST_TEST(!net::bearer_matches(&longer, "t0k"));
  BOOST_TEST(!net::bearer_matches(nullptr, "t0k"));
  BOOST_TEST(!net::bearer_matches(&ok, ""));
}

BOOST_AUTO_TEST_CASE(error_bodies_are_ascii_json) {
  BOOST_TEST(json_string("a\"b\\c") == R"("a\"b\\c")");
  BOOST_TEST(json_string("<script>&") == R"("\u003cscript\u003e\u0026")");
  BOOST_TEST(json_string("\x1b[31m\n") == R"("\u001b[31m\u000a")");
  BOOST_TEST(json_string("\xff\xfe") == R"("\ufffd\ufffd")");
  BOOST_TEST(json_string("\xc3\xa9") == R"("\u00e9")");
  BOOST_TEST(json_string("\xf0\x9f\x98\x80") == R"("\ud83d\ude00")");
  BOOST_TEST(json_string("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // a UTF-16 surrogate is not UTF-8
  BOOST_TEST(json_string("\xc0\xaf") == R"("\ufffd\ufffd")");              // overlong '/'
  BOOST_TEST(json_string("\xe2\x82") == R"("\ufffd\ufffd")");              // cut short
  const http_response r = error_response(404, "x.y", "no job with id '\xff<b>'");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  BOOST_TEST(!d.HasParseError());
  BOOST_TEST(r.body.find('<') == std::string::npos);
}

namespace {

/// Records what the compatibility routes ask of the process's workers.
struct fake_workers final : worker_control {
  std::vector<int> starts;
  int stops = 0;
  worker_slots_state start(int n) override {
    starts.push_back(n);
    return {n, 0, 0};
  }
  worker_stop_report stop() override {
    ++stops;
    return {3, 1, 0};
  }
  worker_slots_state state() const override { return {}; }
};

http_request with(http_request r, std::string name, std::string value) {
  r.headers.emplace_back(std::move(name), std::move(value));
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(compat_routes_answer_as_their_api_routes) {
  temp_queue tq;
  tq.add("a1", "echo a");
  fake_workers fw;
  web_app app(*tq.q, "", {}, &fw);
  BOOST_TEST(app.handle(request("GET", "/list?state=pending")).body == app.handle(request("GET", "/api/jobs?state=pending")).body);
  BOOST_TEST(app.handle(request("GET", "/dlq/list")).body == app.handle(request("GET", "/api/dlq")).body);
  BOOST_TEST(app.handle(request("GET", "/config/get?key=max-retries")).body ==
             app.handle(request("GET", "/api/config/max-retries")).body);
  BOOST_TEST(app.handle(request("GET", "/config/get")).body == app.handle(request("GET", "/api/config")).body);
  BOOST_TEST(app.handle(request("GET", "/config/get?key=nope")).status == 404);
  const http_response e = app.handle(request("POST", "/enqueue", R"({"id":"a2","command":"true"})"));
  BOOST_TEST(e.status == 201);
  BOOST_TEST(e.body == R"({"id":"a2"})");
  BOOST_TEST(tq.q->get("a2").command == "true");
  BOOST_TEST(app.handle(request("POST", "/dlq/retry?job_id=a2")).status == 409);  // not dead
  BOOST_TEST(app.handle(request("POST", "/dlq/retry?job_id=a%2Fb")).status == 404);
  BOOST_TEST(app.handle(request("POST", "/dlq/retry")).status == 400);
  BOOST_TEST(app.handle(request("POST", "/config/set", R"({"key":"max-retries","value":4})")).status == 200);
  BOOST_TEST(tq.q->reload_config().max_retries == 4);
  BOOST_TEST(app.handle(request("POST", "/config/set", R"({"key":"max-retries","value":-4})")).status == 400);
  BOOST_TEST(app.handle(request("POST", "/config/set", R"({"value":4})")).status == 400);
  BOOST_TEST(tq.q->reload_config().max_retries == 4);
  BOOST_TEST(app.handle(request("GET", "/enqueue")).status == 405);

  // Workers: bounds, then the interface; a GET that acts is refused from another site.
  BOOST_TEST(app.handle(request("POST", "/worker/start?num_workers=0")).status == 400);
  BOOST_TEST(app.handle(request("POST", "/worker/start?num_workers=1025")).status == 400);
  BOOST_TEST(app.handle(with(request("GET", "/worker/start?num_workers=2"), "sec-fetch-site", "cross-site")).status == 403);
  BOOST_TEST(app.handle(with(request("GET", "/worker/start?num_workers=2"), "sec-fetch-site", "same-site")).status == 403);
  BOOST_TEST(app.handle(with(request("GET", "/worker/stop"), "origin", "http://evil.example")).status == 403);
  BOOST_TEST(fw.starts.empty());
  BOOST_TEST(fw.stops == 0);
  // A same-site GET of anything else is not refused: only the two acting GETs are strict.
  BOOST_TEST(app.handle(with(request("GET", "/status"), "sec-fetch-site", "same-site")).status == 200);
  BOOST_TEST(app.handle(with(request("GET", "/worker/start?num_workers=2"), "sec-fetch-site", "same-origin")).body ==
             R"({"slots":2,"busy":0,"finishing":0})");
  BOOST_TEST(app.handle(request("POST", "/worker/start")).status == 200);  // default: 1
  BOOST_TEST(app.handle(request("GET", "/worker/stop")).body == R"({"stopped_slots":3,"signalled":1,"other_hosts":0})");
  BOOST_TEST((fw.starts == std::vector<int>{2, 1}));
  BOOST_TEST(fw.stops == 1);

  // Without a worker control: 501.
  web_app bare(*tq.q, "");
  BOOST_TEST(bare.handle(request("POST", "/worker/start")).status == 501);

  // With a token, every compatibility route needs it (but /docs, a page).
  web_app tokened(*tq.q, "t0k", {}, &fw);
  for (const char* p : {"/list", "/status", "/dlq/list", "/config/get", "/worker/start", "/worker/stop"})
    BOOST_TEST_CONTEXT(p) { BOOST_TEST(tokened.handle(request("GET", p)).status == 401); }
  BOOST_TEST(tokened.handle(request("POST", "/enqueue", R"({"command":"true"})")).status == 401);
  BOOST_TEST(tokened.handle(with(request("GET", "/status"), "authorization", "Bearer t0k")).status == 200);
  BOOST_TEST(tokened.handle(request("GET", "/docs")).status == 200);
  BOOST_TEST((fw.starts == std::vector<int>{2, 1}));
}

BOOST_AUTO_TEST_SUITE_END()
