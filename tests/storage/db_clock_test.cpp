// detail::db_clock, the database time of postgresql_storage carried forward by the
// monotonic clock (issue 9 item 15): a wall-clock step is noticed at the next check and
// followed at once; drift within the threshold leaves the offset alone, so times written
// and read back between measurements stay exact.
#include <boost/test/unit_test.hpp>

#include "queuectl/storage/detail/db_clock.hpp"

using queuectl::detail::db_clock;

namespace {
constexpr long long ms = 1000000;  // nanoseconds per millisecond, for steady times
constexpr long long wall0 = 1767225600000, db0 = wall0 + 3000;  // the database runs 3 s ahead
}  // namespace

BOOST_AUTO_TEST_SUITE(db_clock_tests)

BOOST_AUTO_TEST_CASE(the_database_time_follows_the_monotonic_clock) {
  db_clock c(250);
  BOOST_TEST(!c.synced());
  BOOST_TEST(!c.check(wall0, 0));  // nothing measured yet: nothing to compare
  c.measured(db0, wall0, 10 * ms, 20);
  BOOST_TEST(c.synced());
  BOOST_TEST(c.offset_ms() == 3000);
  BOOST_TEST(c.db_now_ms(10 * ms + 60000 * ms) == db0 + 60000);
}

BOOST_AUTO_TEST_CASE(a_step_forward_or_back_is_followed_at_once) {
  db_clock c(250);
  c.measured(db0, wall0, 0, 20);
  // 10 s later the wall clock jumped 120 s ahead: the database time did not.
  BOOST_TEST(c.check(wall0 + 10000 + 120000, 10000 * ms));
  BOOST_TEST(c.offset_ms() == 3000 - 120000);
  // A wall time translated with the new offset is the database's now.
  BOOST_TEST(wall0 + 10000 + 120000 + c.offset_ms() == c.db_now_ms(10000 * ms));
  BOOST_TEST(!c.check(wall0 + 11000 + 120000, 11000 * ms));  // steady again: no change
  // Then 240 s back (120 s behind the truth).
  BOOST_TEST(c.check(wall0 + 12000 - 120000, 12000 * ms));
  BOOST_TEST(c.offset_ms() == 3000 + 120000);
}

BOOST_AUTO_TEST_CASE(drift_within_the_threshold_keeps_the_offset_exact) {
  db_clock c(250);
  c.measured(db0, wall0, 0, 20);
  // NTP slewing at 500 ppm: 30 ms over a minute. Not a step.
  BOOST_TEST(!c.check(wall0 + 60000 + 30, 60000 * ms));
  BOOST_TEST(c.offset_ms() == 3000);
  // A new measurement within its noise keeps the offset too (round trips stay exact)…
  c.measured(db0 + 60000, wall0 + 60000 + 15, 60000 * ms, 20);
  BOOST_TEST(c.offset_ms() == 3000);
  // …one beyond it takes the new value.
  c.measured(db0 + 120000, wall0 + 120000 + 60, 120000 * ms, 20);
  BOOST_TEST(c.offset_ms() == 3000 - 60);
}

BOOST_AUTO_TEST_SUITE_END()
