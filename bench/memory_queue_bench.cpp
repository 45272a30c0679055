// memory_queue vs a plain std::mutex + std::priority_queue queue doing the same work:
// enqueue N jobs (by priority, FIFO within), then claim and complete them all, looking
// the job up by id on completion. Prints both rates and the ratio (target >= 1.0).
//
//   memory_queue_bench [N=200000] [threads=1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "queuectl/executor/function_executor.hpp"
#include "queuectl/memory_queue.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

std::vector<queuectl::job_spec> make_specs(int n) {
  std::vector<queuectl::job_spec> specs(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    specs[static_cast<std::size_t>(i)].id = "job-" + std::to_string(i);
    specs[static_cast<std::size_t>(i)].command = "true";
    specs[static_cast<std::size_t>(i)].priority = i % 4;
  }
  return specs;
}

/// The baseline: the least a thread-safe priority job queue with claim/complete must do.
class baseline_queue {
 public:
  void push(queuectl::job j) {
    std::lock_guard lock(mu_);
    j.seq = ++seq_;
    pending_.push(std::move(j));
  }
  bool claim(queuectl::job& out) {
    std::lock_guard lock(mu_);
    if (pending_.empty()) return false;
    out = pending_.top();
    pending_.pop();
    out.state = queuectl::job_state::processing;
    out.attempts += 1;
    running_.emplace(out.id, out);
    return true;
  }
  void complete(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = running_.find(id);
    it->second.state = queuectl::job_state::completed;
    done_.emplace(id, std::move(it->second));
    running_.erase(it);
  }
  std::size_t done() {
    std::lock_guard lock(mu_);
    return done_.size();
  }

 private:
  struct order {
    bool operator()(const queuectl::job& a, const queuectl::job& b) const {
      return a.priority != b.priority ? a.priority < b.priority : a.seq > b.seq;
    }
  };
  std::mutex mu_;
  std::int64_t seq_ = 0;
  std::priority_queue<queuectl::job, std::vector<queuectl::job>, order> pending_;
  std::unordered_map<std::string, queuectl::job> running_, done_;
};

template <class F>
double seconds(F&& f) {
  const auto t0 = clock_type::now();
  f();
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

template <class Work>
void on_threads(int threads, Work work) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back(work, t);
  for (auto& t : ts) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;

  double base_s = 0, ours_s = 0;
  for (int round = 0; round < 3; ++round) {  // best of three, alternating
    {
      auto specs = make_specs(n);
      baseline_queue b;
      base_s = (round == 0 ? 1e9 : base_s);
      base_s = std::min(base_s, seconds([&] {
        for (auto& s : specs) {
          queuectl::job j;
          j.id = std::move(s.id);
          j.command = std::move(s.command);
          j.priority = s.priority;
          b.push(std::move(j));
        }
        on_threads(threads, [&](int) {
          queuectl::job j;
          while (b.claim(j)) b.complete(j.id);
        });
      }));
      if (b.done() != static_cast<std::size_t>(n)) return 1;
    }
    {
      auto specs = make_specs(n);
      queuectl::memory_queue<queuectl::noop_executor> q(queuectl::noop_executor{}, {});
      ours_s = (round == 0 ? 1e9 : ours_s);
      ours_s = std::min(ours_s, seconds([&] {
        q.enqueue(std::move(specs));
        on_threads(threads, [&](int t) {
          const std::string owner = "w" + std::to_string(t);
          while (q.run_once(owner)) {
          }
        });
      }));
      if (queuectl::at(q.counts(), queuectl::job_state::completed) != static_cast<std::size_t>(n)) return 1;
    }
  }
  const double base_rate = n / base_s, ours_rate = n / ours_s;
  std::printf("memory_queue enqueue+claim+complete, %d jobs, %d thread(s)\n", n, threads);
  std::printf("  baseline mutex+priority_queue: %10.0f jobs/s\n", base_rate);
  std::printf("  memory_queue (basic_queue):    %10.0f jobs/s\n", ours_rate);
  std::printf("  ratio: %.2f (target >= 1.0, issue 11)\n", ours_rate / base_rate);
  return 0;
}
