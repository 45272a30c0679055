/// @file
/// @brief The storage contract: the Boost.Test suite every storage policy passes, for
/// your own storage's test (docs/custom-queue.md, "Writing a storage").
///
/// Define the fixture types, list them as `queuectl_contract_fixtures` (a
/// `boost::mpl::list`, from <boost/mpl/list.hpp>), then include this
/// header once, in one test source of a Boost.Test program:
///
/// @code
/// struct my_fixture {
///   my_storage& storage();                    // a fresh, empty queue per test
///   std::shared_ptr<my_storage> other();      // a second handle on the same queue
/// };                                          // (as another process would open it)
/// using queuectl_contract_fixtures = boost::mpl::list<my_fixture>;
/// #include <queuectl/testing/storage_contract.hpp>
/// @endcode
///
/// It defines the test suite `storage_contract`, each case templated on the fixtures.
/// Times are fixed (`contract::t0`, 2026-01-01): storages must keep time points exactly
/// to the millisecond.
#pragma once

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "queuectl/concepts.hpp"
#include "queuectl/error.hpp"
#include "queuectl/job.hpp"
#include "queuectl/storage_types.hpp"
#include "queuectl/reclaim.hpp"
#include "queuectl/testing/printers.hpp"


/// Helpers of the contract's cases: jobs, claims and finishes at fixed times.
namespace queuectl::contract {
using namespace std::chrono_literals;

inline const time_point t0 = from_ms(1767225600000);  // 2026-01-01T00:00:00Z

inline job make_job(const std::string& id, int priority = 0, time_point run_at = t0) {
  job j;
  j.id = id;
  j.command = "echo " + id;
  j.priority = priority;
  j.run_at = run_at;
  j.created_at = t0;
  j.updated_at = t0;
  return j;
}

inline claim_request claim_of(std::string owner, std::size_t n, time_point now = t0 + 1s) {
  claim_request r;
  r.owner = std::move(owner);
  r.max_jobs = n;
  r.now = now;
  r.lease_until = now + 30s;
  return r;
}

inline finish_request finish_of(const std::string& id, const std::string& owner, job_state st, time_point now = t0 + 2s) {
  finish_request f;
  f.id = id;
  f.owner = owner;
  f.state = st;
  f.now = now;
  f.outcome = st == job_state::completed ? attempt_outcome::succeeded : attempt_outcome::failed;
  return f;
}

inline std::vector<std::string> ids(const std::vector<job>& js) {
  std::vector<std::string> out;
  for (const auto& j : js) out.push_back(j.id);
  return out;
}

}  // namespace queuectl::contract

BOOST_AUTO_TEST_SUITE(storage_contract)
#include "queuectl/testing/detail/contract_lifecycle.hpp"
#include "queuectl/testing/detail/contract_queries.hpp"
#include "queuectl/testing/detail/contract_updates.hpp"
BOOST_AUTO_TEST_SUITE_END()
