/// @file
/// @brief A storage chosen at run time: type-erases any storage_policy.
///
/// basic_queue takes its storage as a template argument, which is the fast path for
/// programs that know their backend. Programs that pick it from configuration (the
/// queuectl apps: `--db queue.db` or `--db postgresql://…`) use
/// `basic_queue<any_storage, …>`; the cost is one virtual call per storage operation,
/// nothing next to a database round trip.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/error.hpp"

namespace queuectl {

/// @brief Owns one storage of any type satisfying storage_policy and forwards to it.
class any_storage {
 public:
  /// Takes ownership of `storage` (e.g. `std::make_unique<sqlite_storage>(path)`).
  template <storage_policy S>
  explicit any_storage(std::unique_ptr<S> storage) : impl_(std::make_unique<model<S>>(std::move(storage))) {}

  /// The concrete storage, or nullptr if it is not an `S` (for backend-specific features).
  template <class S>
  S* target() noexcept {
    auto* m = dynamic_cast<model<S>*>(impl_.get());
    return m ? m->s.get() : nullptr;
  }

  void insert(const std::vector<job>& jobs) { impl_->insert(jobs); }
  void insert_sequential(std::vector<job>& jobs) { impl_->insert_sequential(jobs); }
  std::vector<job> claim(const claim_request& r) { return impl_->claim(r); }
  std::optional<time_point> next_due(const claim_request& r) { return impl_->next_due(r); }
  bool renew_lease(std::string_view id, std::string_view owner, time_point until) {
    return impl_->renew_lease(id, owner, until);
  }
  bool finish(const finish_request& r) { return impl_->finish(r); }
  bool release(std::string_view id, std::string_view owner, time_point t) { return impl_->release(id, owner, t); }
  std::vector<lapsed_lease> lapsed_leases(time_point t) { return impl_->lapsed_leases(t); }
  bool recover_lapsed(const lapse_recovery& r) { return impl_->recover_lapsed(r); }
  bool cancel(std::string_view id, time_point t) { return impl_->cancel(id, t); }
  bool retry_dead(std::string_view id, time_point t) { return impl_->retry_dead(id, t); }
  std::size_t retry_all_dead(time_point t) { return impl_->retry_all_dead(t); }
  bool remove(std::string_view id) { return impl_->remove(id); }
  bool update_job(const job_update& u) { return impl_->update_job(u); }
  reset_result reset_jobs(bool force) { return impl_->reset_jobs(force); }
  std::optional<job> get(std::string_view id) { return impl_->get(id); }
  std::vector<job> list(const list_filter& f) { return impl_->list(f); }
  state_counts counts() { return impl_->counts(); }
  std::map<std::string, state_counts> counts_by_queue() { return impl_->counts_by_queue(); }
  std::map<std::string, std::size_t> waiting_by_executor() { return impl_->waiting_by_executor(); }
  std::vector<attempt_record> attempts(std::string_view id) { return impl_->attempts(id); }
  std::size_t purge(const purge_filter& f) { return impl_->purge(f); }
  std::optional<std::string> get_config(std::string_view key) { return impl_->get_config(key); }
  void set_config(std::string_view key, std::string_view value) { impl_->set_config(key, value); }
  void set_config_entries(const std::map<std::string, std::string>& entries) { impl_->set_config_entries(entries); }
  std::map<std::string, std::string> config_entries() { return impl_->config_entries(); }
  void reset_config() { impl_->reset_config(); }
  void upsert_worker(const worker_info& w) { impl_->upsert_worker(w); }
  void remove_worker(std::string_view id) { impl_->remove_worker(id); }
  std::vector<worker_info> workers() { return impl_->workers(); }
  attempt_stats stats(std::optional<time_point> since) { return impl_->stats(since); }
  std::vector<minute_count> finished_per_minute(time_point since) { return impl_->finished_per_minute(since); }

 private:
  struct interface {
    virtual ~interface() = default;
    virtual void insert(const std::vector<job>&) = 0;
    virtual void insert_sequential(std::vector<job>&) = 0;
    virtual std::vector<job> claim(const claim_request&) = 0;
    virtual std::optional<time_point> next_due(const claim_request&) = 0;
    virtual bool renew_lease(std::string_view, std::string_view, time_point) = 0;
    virtual bool finish(const finish_request&) = 0;
    virtual bool release(std::string_view, std::string_view, time_point) = 0;
    virtual std::vector<lapsed_lease> lapsed_leases(time_point) = 0;
    virtual bool recover_lapsed(const lapse_recovery&) = 0;
    virtual bool cancel(std::string_view, time_point) = 0;
    virtual bool retry_dead(std::string_view, time_point) = 0;
    virtual std::size_t retry_all_dead(time_point) = 0;
    virtual bool remove(std::string_view) = 0;
    virtual bool update_job(const job_update&) = 0;
    virtual reset_result reset_jobs(bool) = 0;
    virtual std::optional<job> get(std::string_view) = 0;
    virtual std::vector<job> list(const list_filter&) = 0;
    virtual state_counts counts() = 0;
    virtual std::map<std::string, state_counts> counts_by_queue() = 0;
    virtual std::map<std::string, std::size_t> waiting_by_executor() = 0;
    virtual std::vector<attempt_record> attempts(std::string_view) = 0;
    virtual std::size_t purge(const purge_filter&) = 0;
    virtual std::optional<std::string> get_config(std::string_view) = 0;
    virtual void set_config(std::string_view, std::string_view) = 0;
    virtual void set_config_entries(const std::map<std::string, std::string>&) = 0;
    virtual std::map<std::string, std::string> config_entries() = 0;
    virtual void reset_config() = 0;
    virtual void upsert_worker(const worker_info&) = 0;
    virtual void remove_worker(std::string_view) = 0;
    virtual std::vector<worker_info> workers() = 0;
    virtual attempt_stats stats(std::optional<time_point>) = 0;
    virtual std::vector<minute_count> finished_per_minute(time_point) = 0;
  };

  template <class S>
  struct model final : interface {
    explicit model(std::unique_ptr<S> storage) : s(std::move(storage)) {}
    void insert(const std::vector<job>& j) override { s->insert(j); }
    void insert_sequential(std::vector<job>& j) override { s->insert_sequential(j); }
    std::vector<job> claim(const claim_request& r) override { return s->claim(r); }
    std::optional<time_point> next_due(const claim_request& r) override { return s->next_due(r); }
    bool renew_lease(std::string_view id, std::string_view o, time_point t) override { return s->renew_lease(id, o, t); }
    bool finish(const finish_request& r) override { return s->finish(r); }
    bool release(std::string_view id, std::string_view o, time_point t) override { return s->release(id, o, t); }
    std::vector<lapsed_lease> lapsed_leases(time_point t) override { return s->lapsed_leases(t); }
    bool recover_lapsed(const lapse_recovery& r) override { return s->recover_lapsed(r); }
    bool cancel(std::string_view id, time_point t) override { return s->cancel(id, t); }
    bool retry_dead(std::string_view id, time_point t) override { return s->retry_dead(id, t); }
    std::size_t retry_all_dead(time_point t) override { return retry_all_dead_of(*s, t); }
    bool remove(std::string_view id) override { return s->remove(id); }
    bool update_job(const job_update& u) override { return s->update_job(u); }
    reset_result reset_jobs(bool force) override { return s->reset_jobs(force); }
    std::optional<job> get(std::string_view id) override { return s->get(id); }
    std::vector<job> list(const list_filter& f) override { return s->list(f); }
    state_counts counts() override { return s->counts(); }
    std::map<std::string, state_counts> counts_by_queue() override {
      if constexpr (counts_per_queue<S>) {
        return s->counts_by_queue();
      } else {  // from the jobs themselves
        list_filter all;
        all.limit = 0;
        std::map<std::string, state_counts> out;
        for (const job& j : s->list(all)) ++at(out[j.queue], j.state);
        return out;
      }
    }
    std::map<std::string, std::size_t> waiting_by_executor() override { return s->waiting_by_executor(); }
    std::vector<attempt_record> attempts(std::string_view id) override { return s->attempts(id); }
    std::size_t purge(const purge_filter& f) override { return s->purge(f); }
    std::optional<std::string> get_config(std::string_view k) override { return s->get_config(k); }
    void set_config(std::string_view k, std::string_view v) override { s->set_config(k, v); }
    void set_config_entries(const std::map<std::string, std::string>& e) override { s->set_config_entries(e); }
    std::map<std::string, std::string> config_entries() override { return s->config_entries(); }
    void reset_config() override { s->reset_config(); }
    void upsert_worker(const worker_info& w) override { s->upsert_worker(w); }
    void remove_worker(std::string_view id) override { s->remove_worker(id); }
    std::vector<worker_info> workers() override { return s->workers(); }
    attempt_stats stats(std::optional<time_point> since) override {
      if constexpr (attempt_statistics<S>) {
        return s->stats(since);
      } else {
        throw no_stats();
      }
    }
    std::vector<minute_count> finished_per_minute(time_point since) override {
      if constexpr (attempt_statistics<S>) {
        return finished_per_minute_of(*s, since, queuectl::now());
      } else {
        throw no_stats();
      }
    }
    static error no_stats() {
      return error(error_kind::storage, "queuectl.storage.no_stats", "this storage keeps no attempt statistics");
    }
    std::unique_ptr<S> s;
  };

  std::unique_ptr<interface> impl_;
};
static_assert(storage_policy<any_storage> && attempt_statistics<any_storage> && counts_per_queue<any_storage> &&
              bulk_dead_retry<any_storage> && attempts_per_minute<any_storage>);

}  // namespace queuectl
