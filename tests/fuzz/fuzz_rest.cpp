// libFuzzer target: the REST request path without a socket — router (methods, patterns,
// percent-decoding, query strings), body parsing and every /api handler, against a
// temporary SQLite database made once per process. Input: "METHOD TARGET\n" then the body.
// Every answer must be an HTTP status with a JSON body that parses; a handler may fail only
// with http_error or queuectl::error (the server maps both to 4xx/5xx JSON).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "host_queue.hpp"
#include "queuectl/job_codec.hpp"
#include "queuectl/json_parse.hpp"
#include "rest_api.hpp"
#include "router.hpp"

namespace {

struct fixture {
  std::filesystem::path dir;
  std::unique_ptr<queuectl::app::host_queue> q;
  std::unique_ptr<queuectl::web::rest_api> api;
  queuectl::web::router routes;
  fixture() {
    char tmpl[] = "/tmp/queuectl-fuzz-rest-XXXXXX";
    if (!::mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    q = queuectl::app::open_host_queue((dir / "queue.db").string());
    api = std::make_unique<queuectl::web::rest_api>(*q);
    api->register_routes(routes);
    // Something to find: jobs in a few states.
    for (const char* spec : {R"({"id":"j1","command":"true"})", R"({"id":"j2","command":"false","queue":"q2"})"})
      q->enqueue(queuectl::parse_job_spec(spec));
    q->cancel("j2");
  }
  ~fixture() {
    api.reset();
    q.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

fixture& the_fixture() {
  static fixture f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace queuectl;
  using namespace queuectl::web;
  fixture& f = the_fixture();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = text.find('\n');
  const std::string_view line = text.substr(0, nl);
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  http_request req;
  req.method = std::string(line.substr(0, sp));
  req.target = std::string(line.substr(sp + 1));
  const std::size_t qm = req.target.find('?');
  req.path = req.target.substr(0, qm);
  if (qm != std::string::npos) req.query = req.target.substr(qm + 1);
  if (nl != std::string_view::npos) req.body = std::string(text.substr(nl + 1));
  req.headers.emplace_back("host", "127.0.0.1:8080");
  req.headers.emplace_back("content-type", "application/json");
  http_response res;
  try {
    auto r = f.routes.dispatch(req);
    if (!r) return 0;  // 404
    res = std::move(*r);
  } catch (const http_error& e) {
    res = error_response(e.status, e.id, e.message);
  } catch (const error& e) {
    res = error_response(e.kind() == error_kind::not_found ? 404 : 400, e.id(), e.message());
  }
  if (res.status < 100 || res.status > 599) std::abort();
  if (res.content_type == "application/json" && !res.body.empty()) {
    rapidjson::Document d;
    if (!parse_json(d, res.body).empty()) std::abort();  // escaped, valid UTF-8, bounded
  }
  return 0;
}
