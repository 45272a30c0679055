// The storage contract run on examples/metrics_storage.hpp, as a user's own storage runs
// it: list the fixtures, include queuectl/testing/storage_contract.hpp. Then the decorator
// in use under a queue, with its figures.
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>

#include "metrics_storage.hpp"
#include "queuectl/basic_queue.hpp"
#include "queuectl/backoff/exponential_backoff.hpp"
#include "queuectl/executor/function_executor.hpp"
#include "queuectl/storage/memory_storage.hpp"

namespace {
using metered = example::metrics_storage<queuectl::memory_storage_mt>;

struct metrics_fixture {
  std::shared_ptr<queuectl::memory_storage_mt> inner = std::make_shared<queuectl::memory_storage_mt>();
  metered s{inner};
  metered& storage() { return s; }
  std::shared_ptr<metered> other() { return std::make_shared<metered>(inner); }  // same queue
};
}  // namespace

static_assert(queuectl::storage_policy<metered>);
using queuectl_contract_fixtures = boost::mpl::list<metrics_fixture>;
#include "queuectl/testing/storage_contract.hpp"

BOOST_AUTO_TEST_CASE(a_queue_over_the_decorator_runs_jobs_and_the_figures_add_up) {
  queuectl::basic_queue<metered, queuectl::exponential_backoff, queuectl::noop_executor> q(
      queuectl::noop_executor{}, {}, std::make_shared<queuectl::memory_storage_mt>());
  for (int i = 0; i < 5; ++i) q.enqueue(queuectl::job_spec{.command = "x"});
  int ran = 0;
  while (q.run_once("w")) ++ran;
  BOOST_TEST(ran == 5);
  const auto m = q.storage().metrics();
  BOOST_TEST(m.at("claim").calls == 6u);  // five jobs, then the empty claim
  BOOST_TEST(m.at("finish").calls == 5u);
  BOOST_TEST(m.at("claim").time.count() > 0);
}
