// One contract, every storage: the same typed suite runs against memory_storage_mt and
// sqlite_storage, and — built with QUEUECTL_TEST_WITH_PG, run by tests/support/pg_server.sh
// with QUEUECTL_TEST_PG_URL set — postgresql_storage (each test in a fresh schema).
// A new storage policy passes this suite before it ships.
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include "queuectl/storage/any_storage.hpp"
#include "queuectl/storage/memory_storage.hpp"
#include "queuectl/storage/sqlite_storage.hpp"
#ifdef QUEUECTL_TEST_WITH_PG
#include "queuectl/storage/postgresql_storage.hpp"
#endif

using namespace queuectl;
using namespace std::chrono_literals;

namespace {

struct memory_fixture {
  memory_storage_mt s;
  memory_storage_mt& storage() { return s; }
  /// Another handle on the same queue (as another process would have): here the same object.
  std::shared_ptr<memory_storage_mt> other() { return {std::shared_ptr<void>(), &s}; }
};

struct sqlite_fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("qctl-contract-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
  std::unique_ptr<sqlite_storage> s = std::make_unique<sqlite_storage>((dir / "q.db").string());
  sqlite_storage& storage() { return *s; }
  /// A second connection to the same file, as another process has.
  std::shared_ptr<sqlite_storage> other() { return std::make_shared<sqlite_storage>((dir / "q.db").string()); }
  ~sqlite_fixture() {
    s.reset();
    std::filesystem::remove_all(dir);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

/// any_storage forwarding to SQLite: the apps' run-time-chosen storage meets the contract too.
struct any_sqlite_fixture {
  sqlite_fixture inner_dir;  // owns the directory; its storage object is unused
  any_storage s{std::make_unique<sqlite_storage>((inner_dir.dir / "any.db").string())};
  any_storage& storage() { return s; }
  std::shared_ptr<any_storage> other() {
    return std::make_shared<any_storage>(std::make_unique<sqlite_storage>((inner_dir.dir / "any.db").string()));
  }
};

#ifdef QUEUECTL_TEST_WITH_PG
/// A fresh schema per test in the server pg_server.sh started; dropped afterwards.
struct pg_fixture {
  static std::string url() {
    const char* u = std::getenv("QUEUECTL_TEST_PG_URL");
    if (u == nullptr || *u == '\0')
      throw std::runtime_error("QUEUECTL_TEST_PG_URL is not set: run this test through tests/support/pg_server.sh run");
    return u;
  }
  static postgresql_options options(std::string schema) {
    postgresql_options o;
    o.pool_size = 2;
    o.schema = std::move(schema);
    o.clock_resync = milliseconds(0);  // one offset for the whole test: times round-trip exactly
    return o;
  }
  std::string schema = "qctl_contract_" + std::to_string(::getpid()) + "_" + std::to_string(sqlite_fixture::counter()++);
  std::unique_ptr<postgresql_storage> s = std::make_unique<postgresql_storage>(url(), options(schema));
  postgresql_storage& storage() { return *s; }
  /// Another pool on the same schema, as another host has.
  std::shared_ptr<postgresql_storage> other() { return std::make_shared<postgresql_storage>(url(), options(schema)); }
  ~pg_fixture() {
    s.reset();
    try {
      soci::session sql(soci::postgresql, postgresql_storage::soci_connection_string(url()));
      sql << "SET client_min_messages = warning";
      sql << "DROP SCHEMA IF EXISTS " + schema + " CASCADE";
    } catch (const std::exception& e) {
      BOOST_TEST_MESSAGE("dropping " << schema << ": " << e.what());
    }
  }
};
using fixtures = boost::mpl::list<memory_fixture, sqlite_fixture, any_sqlite_fixture, pg_fixture>;
#else
using fixtures = boost::mpl::list<memory_fixture, sqlite_fixture, any_sqlite_fixture>;
#endif

}  // namespace

using queuectl_contract_fixtures = fixtures;
#include "queuectl/testing/storage_contract.hpp"
