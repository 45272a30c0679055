/// @file
/// @brief The http plugin's per-call overhead: N jobs through execute() from 2 threads (as
/// 2 workers would), against a plain keep-alive Beast client loop doing the same requests.
///
/// Both sides hit the same local test server (`/ok`, keep-alive), so the ratio is the cost
/// of the plugin's work per call: payload parsing, the driven async operations, the
/// connection cache and output formatting. Usage: `http_bench [requests] [threads] [rounds]`.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_test_server.hpp"
#include "queuectl/plugin/loader.hpp"

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

/// What one timed run measured.
struct run_stats {
  double wall = 0;  ///< seconds
  double cpu = 0;   ///< CPU seconds of the client threads together (load-independent)
  int ok = 0;       ///< successful requests
};

/// Runs `per_thread(requests / threads)` on each of `threads` threads.
run_stats timed(int threads, int requests, const std::function<int(int)>& per_thread) {
  std::atomic<int> good{0};
  std::mutex m;
  double cpu = 0;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      const double c0 = thread_cpu_seconds();
      good += per_thread(requests / threads);
      std::lock_guard lock(m);
      cpu += thread_cpu_seconds() - c0;
    });
  for (auto& t : pool) t.join();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cpu, good.load()};
}

/// The baseline: one keep-alive connection per thread, synchronous Beast calls.
int beast_loop(std::uint16_t port, int n) {
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  socket.set_option(tcp::no_delay(true));
  boost::beast::flat_buffer buffer;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    http::request<http::empty_body> req{http::verb::get, "/ok", 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    req.keep_alive(true);
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    ok += res.result_int() == 200;
  }
  return ok;
}

int plugin_loop(queuectl::executor_plugin& plugin, const std::string& url, int n) {
  queuectl::job j;
  j.executor = "http";
  j.payload = R"({"url":")" + url + R"(","timeout":10})";
  int ok = 0;
  for (int i = 0; i < n; ++i) ok += plugin.execute(j, {}).success;
  return ok;
}

}  // namespace

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;  // alternated, medians reported: the machine is shared
  try {
    queuectl::test::http_test_server server;
    auto plugin = queuectl::plugin_loader({QUEUECTL_BENCH_PLUGIN_DIR}).load_executor("http");
    const std::string url = server.url("/ok");

    bool all_ok = true;
    timed(threads, 200, [&](int n) { return plugin_loop(*plugin, url, n) + beast_loop(server.port(), n); });  // warm-up
    std::vector<double> plugin_rates, beast_rates, plugin_cpu, beast_cpu;
    int plugin_conns = 0;
    for (int r = 0; r < rounds; ++r) {
      const int conns_before = server.connections();
      const auto p = timed(threads, requests, [&](int n) { return plugin_loop(*plugin, url, n); });
      plugin_conns = server.connections() - conns_before;
      const auto b = timed(threads, requests, [&](int n) { return beast_loop(server.port(), n); });
      all_ok = all_ok && p.ok == requests && b.ok == requests;
      plugin_rates.push_back(requests / p.wall);
      beast_rates.push_back(requests / b.wall);
      plugin_cpu.push_back(p.cpu / requests * 1e6);
      beast_cpu.push_back(b.cpu / requests * 1e6);
      std::printf("round %d: plugin %8.0f req/s %5.1f us cpu/req, beast %8.0f req/s %5.1f us cpu/req\n", r + 1,
                  plugin_rates.back(), plugin_cpu.back(), beast_rates.back(), beast_cpu.back());
    }
    const double r_plugin = median(plugin_rates), r_beast = median(beast_rates);
    std::printf("requests: %d per round over %d threads, %d rounds, GET %s (keep-alive)\n", requests, threads, rounds,
                url.c_str());
    std::printf("plugin execute(): %8.0f req/s median, %5.1f us client cpu/req (%d new connections per round)\n",
                r_plugin, median(plugin_cpu), plugin_conns);
    std::printf("beast baseline:   %8.0f req/s median, %5.1f us client cpu/req\n", r_beast, median(beast_cpu));
    std::printf("ratio: %.2f\n", r_plugin / r_beast);
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_bench: %s\n", e.what());
    return 1;
  }
}
