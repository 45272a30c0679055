// The one Boost.Test main shared by every test executable (dynamic Boost.Test library).
#define BOOST_TEST_MODULE queuectl
#include <boost/test/unit_test.hpp>
