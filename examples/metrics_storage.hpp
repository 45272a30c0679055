// A third storage, in one header: metrics_storage<S> wraps any storage policy and counts
// the calls and time spent in each operation — the decorator a service adds to see what
// its queue costs. It passes the storage contract (examples/metrics_storage_test.cpp runs
// queuectl/testing/storage_contract.hpp on it), which is what makes it a storage.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "queuectl/concepts.hpp"

namespace example {

using namespace queuectl;

/// Calls and total time of one storage operation.
struct op_metrics {
  std::uint64_t calls = 0;
  std::chrono::nanoseconds time{0};
};

/// Forwards every storage operation to `S` (shared: two metrics_storage on one inner
/// storage are two handles on one queue) and records how often and how long each ran.
template <storage_policy S>
class metrics_storage {
 public:
  explicit metrics_storage(std::shared_ptr<S> inner) : inner_(std::move(inner)) {}

  /// A copy of the figures so far, by operation name ("claim", "finish", …).
  std::map<std::string, op_metrics> metrics() const {
    std::lock_guard lock(mu_);
    return metrics_;
  }

  void insert(const std::vector<job>& jobs) { timed("insert", [&] { inner_->insert(jobs); }); }
  void insert_sequential(std::vector<job>& jobs) { timed("insert", [&] { inner_->insert_sequential(jobs); }); }
  std::vector<job> claim(const claim_request& r) { return timed("claim", [&] { return inner_->claim(r); }); }
  std::optional<time_point> next_due(const claim_request& r) { return timed("next_due", [&] { return inner_->next_due(r); }); }
  bool renew_lease(std::string_view id, std::string_view owner, time_point until) {
    return timed("renew_lease", [&] { return inner_->renew_lease(id, owner, until); });
  }
  bool finish(const finish_request& f) { return timed("finish", [&] { return inner_->finish(f); }); }
  bool release(std::string_view id, std::string_view owner, time_point t) {
    return timed("release", [&] { return inner_->release(id, owner, t); });
  }
  std::vector<lapsed_lease> lapsed_leases(time_point t) { return timed("reclaim", [&] { return inner_->lapsed_leases(t); }); }
  bool recover_lapsed(const lapse_recovery& r) { return timed("reclaim", [&] { return inner_->recover_lapsed(r); }); }
  bool cancel(std::string_view id, time_point t) { return timed("cancel", [&] { return inner_->cancel(id, t); }); }
  bool retry_dead(std::string_view id, time_point t) { return timed("retry", [&] { return inner_->retry_dead(id, t); }); }
  /// Offered whatever `S` is: retry_all_dead_of() falls back to one by one.
  std::size_t retry_all_dead(time_point t) { return timed("retry", [&] { return retry_all_dead_of(*inner_, t); }); }
  bool remove(std::string_view id) { return timed("remove", [&] { return inner_->remove(id); }); }
  bool update_job(const job_update& u) { return timed("update", [&] { return inner_->update_job(u); }); }
  reset_result reset_jobs(bool force) { return timed("reset", [&] { return inner_->reset_jobs(force); }); }
  std::optional<job> get(std::string_view id) { return timed("read", [&] { return inner_->get(id); }); }
  std::vector<job> list(const list_filter& f) { return timed("read", [&] { return inner_->list(f); }); }
  state_counts counts() { return timed("read", [&] { return inner_->counts(); }); }
  std::map<std::string, state_counts> counts_by_queue()
    requires counts_per_queue<S>
  {
    return timed("read", [&] { return inner_->counts_by_queue(); });
  }
  std::map<std::string, std::size_t> waiting_by_executor() {
    return timed("read", [&] { return inner_->waiting_by_executor(); });
  }
  std::vector<attempt_record> attempts(std::string_view id) { return timed("read", [&] { return inner_->attempts(id); }); }
  std::size_t purge(const purge_filter& f) { return timed("purge", [&] { return inner_->purge(f); }); }
  std::optional<std::string> get_config(std::string_view key) { return timed("config", [&] { return inner_->get_config(key); }); }
  void set_config(std::string_view key, std::string_view value) {
    timed("config", [&] { inner_->set_config(key, value); });
  }
  void set_config_entries(const std::map<std::string, std::string>& entries) {
    timed("config", [&] { inner_->set_config_entries(entries); });
  }
  std::map<std::string, std::string> config_entries() { return timed("config", [&] { return inner_->config_entries(); }); }
  void reset_config() { timed("config", [&] { inner_->reset_config(); }); }
  void upsert_worker(const worker_info& w) { timed("workers", [&] { inner_->upsert_worker(w); }); }
  void remove_worker(std::string_view id) { timed("workers", [&] { inner_->remove_worker(id); }); }
  std::vector<worker_info> workers() { return timed("workers", [&] { return inner_->workers(); }); }
  attempt_stats stats(std::optional<time_point> since)
    requires attempt_statistics<S>
  {
    return timed("stats", [&] { return inner_->stats(since); });
  }
  std::vector<minute_count> finished_per_minute(time_point since)
    requires attempt_statistics<S>
  {
    return timed("stats", [&] { return finished_per_minute_of(*inner_, since, now()); });
  }

 private:
  /// Runs `f`, then adds its call and duration to `op` (also when it throws).
  template <class F>
  decltype(auto) timed(const char* op, F&& f) {
    struct record {
      metrics_storage& self;
      const char* op;
      std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
      ~record() {
        const auto took = std::chrono::steady_clock::now() - start;
        std::lock_guard lock(self.mu_);
        op_metrics& m = self.metrics_[op];
        ++m.calls;
        m.time += std::chrono::duration_cast<std::chrono::nanoseconds>(took);
      }
    } r{*this, op};
    return f();
  }

  std::shared_ptr<S> inner_;
  mutable std::mutex mu_;
  std::map<std::string, op_metrics> metrics_;
};

}  // namespace example
