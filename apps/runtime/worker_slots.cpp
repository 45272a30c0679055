#include "worker_slots.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>

#include "queuectl/bounds.hpp"
#include "queuectl/error.hpp"
#include "queuectl/plugin/loader.hpp"

namespace queuectl::app {

namespace {

std::string this_hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

/// Our own kind of process: guards against signalling a pid the kernel gave to someone
/// else after a worker died without unregistering.
bool is_queuectl_process(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return false;
  const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return cmdline.find("queuectl") != std::string::npos;
}

void log_line(const std::string& msg) {
  std::fprintf(stderr, "%s queuectl[%d]: %s\n", to_rfc3339(now()).c_str(), static_cast<int>(::getpid()),
               printable_line(msg).c_str());
  std::fflush(stderr);
}

}  // namespace

worker_info new_worker_identity(std::vector<std::string> executors) {
  worker_info me;
  me.hostname = this_hostname();
  me.pid = ::getpid();
  me.started_at = now();
  me.heartbeat_at = me.started_at;
  me.executors = std::move(executors);
  std::mt19937_64 rng{std::random_device{}()};
  char suffix[9];
  std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rng()));
  me.id = me.hostname + ":" + std::to_string(me.pid) + ":" + suffix;
  return me;
}

signalled_workers signal_local_workers(host_queue& q) {
  const std::string host = this_hostname();
  signalled_workers out;
  for (const auto& w : q.workers()) {
    if (w.hostname != host) {
      ++out.other_hosts;
      continue;
    }
    if (w.pid <= 0 || w.pid == ::getpid() || out.pids.count(w.pid) || !is_queuectl_process(w.pid)) continue;
    if (::kill(static_cast<pid_t>(w.pid), SIGTERM) == 0) out.pids.insert(w.pid);
  }
  return out;
}

bool process_has_exited(std::int64_t pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

// ---- worker_slots ------------------------------------------------------------------------

worker_slots::worker_slots(host_queue& q) : q_(q), log_(log_line) {
  reaper_ = std::jthread([this](std::stop_token st) { reap_loop(st); });
}

worker_slots::~worker_slots() { shutdown(); }

void worker_slots::shutdown() {
  close();
  const auto limit = saturating_ms(q_.config().stop_timeout_seconds);
  if (!wait_stopped_for(limit)) abort_running();
  join();
}

void worker_slots::configure(worker_info me, worker_pool_options base, std::function<void(const std::string&)> log) {
  std::lock_guard lock(mu_);
  me_ = std::move(me);
  base_ = std::move(base);
  log_ = log ? std::move(log) : log_line;
  configured_ = true;
}

int worker_slots::active_slots() const {
  int n = 0;
  for (const auto& p : active_) n += p->slots();
  return n;
}

int worker_slots::finishing_slots() const {
  int n = 0;
  // Slots of stopped pools that still run a job (idle ones exit at once).
  for (const auto& r : retiring_) n += static_cast<int>(r.p->busy());
  return n;
}

void worker_slots::update_row() {
  const int active = active_slots();
  const int shown = active > 0 ? active : finishing_slots();
  if (shown == 0) {
    if (registered_) {
      registered_ = false;
      try {
        q_.unregister_worker(me_.id);
      } catch (const error& e) {
        log_(std::string("could not unregister the workers: ") + e.what());
      }
    }
    return;
  }
  me_.slots = shown;
  me_.heartbeat_at = now();
  q_.register_worker(me_);  // throws: the caller reports it
  registered_ = true;
}

void worker_slots::add_pool(int threads) {
  worker_pool_options o = base_;
  o.threads = threads;
  // Slot i of a pool owns leases as <prefix>/<i>: each pool of this process needs its own.
  o.owner_prefix = generation_ == 0 ? me_.id : me_.id + "/g" + std::to_string(generation_);
  ++generation_;
  o.on_tick = [this, tick = base_.on_tick] {
    std::lock_guard tl(tick_mu_);
    {
      std::lock_guard lock(mu_);
      if (registered_) {
        me_.heartbeat_at = now();
        q_.register_worker(me_);
      }
    }
    if (tick) tick();
  };
  auto p = std::make_unique<pool>(q_, std::move(o));
  p->start();
  active_.push_back(std::move(p));
}

void worker_slots::retire(std::unique_ptr<pool> p) {
  p->request_stop();
  retiring_.push_back(
      {std::move(p), std::chrono::steady_clock::now() + saturating_ms(q_.config().stop_timeout_seconds)});
  cv_.notify_all();
}

web::worker_slots_state worker_slots::start(int n) {
  if (!bounds::worker_slots.contains(n))
    throw error(error_kind::invalid_input, "queuectl.workers.bad_count",
                "num_workers: " + std::to_string(n) + " is not " + bounds::worker_slots.describe());
  {
    std::lock_guard lock(mu_);
    if (closed_) throw error(error_kind::conflict, "queuectl.workers.closing", "this process is shutting down");
    if (!configured_) throw error(error_kind::conflict, "queuectl.workers.not_ready", "the workers are not ready yet");
    q_.reload_config();  // stop-timeout-seconds as set by any process
    int total = active_slots();
    while (total > n) {  // newest first: the older pools keep their running jobs
      total -= active_.back()->slots();
      retire(std::move(active_.back()));
      active_.pop_back();
    }
    if (total < n) add_pool(n - total);
    update_row();
    log_("running " + std::to_string(n) + " worker slot(s)" +
         (retiring_.empty() ? "" : " (" + std::to_string(finishing_slots()) + " stopping)"));
  }
  return state();
}

web::worker_stop_report worker_slots::stop() {
  web::worker_stop_report report;
  {
    std::lock_guard lock(mu_);
    q_.reload_config();
    report.stopped_slots = active_slots();
    while (!active_.empty()) {
      retire(std::move(active_.back()));
      active_.pop_back();
    }
    update_row();
    if (report.stopped_slots > 0)
      log_("stopping " + std::to_string(report.stopped_slots) + " worker slot(s): running jobs finish");
  }
  const signalled_workers s = signal_local_workers(q_);
  report.signalled = s.pids.size();
  report.other_hosts = s.other_hosts;
  return report;
}

web::worker_slots_state worker_slots::state() const {
  std::lock_guard lock(mu_);
  web::worker_slots_state s;
  s.slots = active_slots();
  s.finishing = finishing_slots();
  for (const auto& p : active_) s.busy += p->busy();
  for (const auto& r : retiring_) s.busy += r.p->busy();
  return s;
}

int worker_slots::slots() const { return state().slots; }
std::size_t worker_slots::busy() const { return state().busy; }

void worker_slots::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  while (!active_.empty()) {
    retire(std::move(active_.back()));
    active_.pop_back();
  }
}

bool worker_slots::wait_stopped_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      std::lock_guard lock(mu_);
      bool all = true;
      for (auto& r : retiring_) all = all && r.p->wait_stopped_for(std::chrono::milliseconds(0));
      if (all && active_.empty()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void worker_slots::abort_running() {
  close();
  std::lock_guard lock(mu_);
  for (auto& r : retiring_) {
    r.p->abort_running();
    r.aborted = true;
  }
}

void worker_slots::join() {
  close();
  reaper_.request_stop();
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  std::vector<retiring> left;
  {
    std::lock_guard lock(mu_);
    left.swap(retiring_);
  }
  for (auto& r : left) {
    r.p->join();
    stuck_ += r.p->stuck_calls();
  }
  std::lock_guard lock(mu_);
  update_row();
}

std::size_t worker_slots::stuck_calls() const {
  std::lock_guard lock(mu_);
  return stuck_;
}

void worker_slots::reap_loop(std::stop_token st) {
  std::unique_lock lock(mu_);
  while (!st.stop_requested()) {
    cv_.wait_for(lock, st, std::chrono::milliseconds(50), [] { return false; });
    if (st.stop_requested()) break;
    std::vector<std::unique_ptr<pool>> done;
    const auto t = std::chrono::steady_clock::now();
    for (auto it = retiring_.begin(); it != retiring_.end();) {
      if (it->p->wait_stopped_for(std::chrono::milliseconds(0))) {
        done.push_back(std::move(it->p));
        it = retiring_.erase(it);
        continue;
      }
      if (!it->aborted && t >= it->deadline) {
        log_("stop-timeout reached: stopping the running jobs of stopped slots");
        it->p->abort_running();
        it->aborted = true;
      }
      ++it;
    }
    if (done.empty()) continue;
    lock.unlock();
    std::size_t stuck = 0;
    for (auto& p : done) {
      p->join();  // quick: its slots have exited (at most abandon_grace for stuck calls)
      stuck += p->stuck_calls();
    }
    done.clear();
    lock.lock();
    stuck_ += stuck;
    try {
      update_row();
    } catch (const std::exception& e) {
      log_(std::string("could not update the worker registry: ") + e.what());
    }
  }
}

// ---- the dashboard's slots -----------------------------------------------------------------

namespace {

class dashboard_workers final : public web::worker_control {
 public:
  dashboard_workers(host_queue& q, std::string db) : q_(q), db_(std::move(db)) {}
  ~dashboard_workers() override {
    if (!slots_) return;
    slots_->shutdown();  // graceful: running jobs get stop-timeout-seconds, then are handed back
    if (const std::size_t stuck = slots_->stuck_calls(); stuck > 0) {
      // Destroying the executors under a call still running in them would crash (as in host_session).
      log_line("stopped (" + std::to_string(stuck) +
               " abandoned executor call(s) still running; exiting without them)");
      std::fflush(nullptr);
      ::_exit(0);
    }
  }

  web::worker_slots_state start(int n) override {
    if (!bounds::worker_slots.contains(n))
      throw error(error_kind::invalid_input, "queuectl.workers.bad_count",
                  "num_workers: " + std::to_string(n) + " is not " + bounds::worker_slots.describe());
    std::lock_guard lock(mu_);
    if (!slots_) prepare();
    return slots_->start(n);
  }
  web::worker_stop_report stop() override {
    std::lock_guard lock(mu_);
    if (slots_) return slots_->stop();
    web::worker_stop_report r;
    const signalled_workers s = signal_local_workers(q_);
    r.signalled = s.pids.size();
    r.other_hosts = s.other_hosts;
    return r;
  }
  web::worker_slots_state state() const override {
    std::lock_guard lock(mu_);
    return slots_ ? slots_->state() : web::worker_slots_state{};
  }

 private:
  void prepare() {
    // The dashboard's queue has no executors until now: this is the only time they are
    // set, before any pool of this process runs (plugin_executor: added before workers).
    plugin_load_options lo;
    lo.log = log_line;
    host_plugins plugins;
    try {
      plugins = load_plugins(default_executor_plugins({}), lo);
    } catch (const error& e) {
      throw error(error_kind::runtime, "queuectl.workers.no_plugins", "cannot start workers: " + e.message());
    }
    for (const auto& line : plugins.report) log_line(line);
    q_.executor() = std::move(plugins.executors);
    auto slots = std::make_unique<worker_slots>(q_);
    worker_pool_options wo;
    wo.executors = q_.executor().names();
    wo.on_storage_error = [](const std::exception& e) {
      log_line(std::string("database error: ") + e.what() + "; retrying");
    };
    wo.on_tick = [this] { q_.reload_config(); };
    wo.on_abandon = [this](const job& j, const std::string& owner) {
      const bool killed = q_.executor().abandon(j.id, "abandoned: the executor did not return after being stopped");
      log_line("job " + j.id + " (" + owner + "): executor '" + j.executor +
               "' did not return after being stopped; attempt abandoned" + (killed ? " (helper process killed)" : ""));
    };
    watch_ = watch_for_jobs(db_, [this] { q_.wake().notify(); });
    if (watch_->announces_jobs()) wo.idle_poll = std::chrono::seconds(30);
    slots->configure(new_worker_identity(*wo.executors), std::move(wo));
    slots_ = std::move(slots);
  }

  host_queue& q_;
  std::string db_;
  mutable std::mutex mu_;
  std::unique_ptr<job_watch> watch_;  // destroyed after the slots (declared before)
  std::unique_ptr<worker_slots> slots_;
};

}  // namespace

std::vector<std::string> default_executor_plugins(const std::vector<std::string>& plugin_dirs) {
  std::vector<std::string> out{"shell"};
  try {  // http too, where it is installed (it is optional: built only with OpenSSL)
    plugin_loader(plugin_dirs).locate("http");
    out.push_back("http");
  } catch (const error&) {
  }
  return out;
}

std::unique_ptr<web::worker_control> on_demand_workers(host_queue& q, std::string db) {
  return std::make_unique<dashboard_workers>(q, std::move(db));
}

}  // namespace queuectl::app
