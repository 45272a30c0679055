// Classifying --db values (apps/common/db_location.cpp): PostgreSQL URLs and libpq keyword
// strings are PostgreSQL, plausible paths are SQLite files, anything else is refused before
// a file is created; secrets never reach a log line; connect_timeout gets a default.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "db_location.hpp"
#include "queuectl/error.hpp"

using namespace queuectl;
using namespace queuectl::app;

BOOST_AUTO_TEST_SUITE(db_location)

BOOST_AUTO_TEST_CASE(postgresql_in_both_forms) {
  BOOST_TEST(is_postgresql_url("postgresql://u@127.0.0.1:5432/q"));
  BOOST_TEST(is_postgresql_url("postgres://h/q"));
  BOOST_TEST(is_postgresql_url("host=127.0.0.1 port=5432 dbname=q user=u password=secret"));
  BOOST_TEST(is_postgresql_url("dbname=q"));
  BOOST_TEST(is_postgresql_url("  host = /var/run/postgresql  dbname='my q' "));
  BOOST_TEST(!is_postgresql_url("/tmp/queue.db"));
  BOOST_TEST(!is_postgresql_url("queue=1.db"));  // one word, not a libpq keyword: a file name
  BOOST_TEST(!is_postgresql_url("x=1 y=2"));
  BOOST_TEST(!is_postgresql_url("host=127.0.0.1 dbname='unterminated"));
}

BOOST_AUTO_TEST_CASE(passwords_are_redacted_in_every_form) {
  BOOST_TEST(display_db("postgresql://u:secret@h:5432/q") == "postgresql://u:***@h:5432/q");
  BOOST_TEST(display_db("postgresql://u@h/q?password=secret&sslmode=disable") ==
             "postgresql://u@h/q?password=***&sslmode=disable");
  BOOST_TEST(display_db("postgresql://u:se/cret@h/q?sslpassword=k2") == "postgresql://u:***@h/q?sslpassword=***");
  BOOST_TEST(display_db("host=h password=secret dbname=q") == "host=h password=*** dbname=q");
  BOOST_TEST(display_db("host=h password='se cr\\'et' dbname=q") == "host=h password='***' dbname=q");
  BOOST_TEST(display_db("postgresql://u@h/q") == "postgresql://u@h/q");
  BOOST_TEST(display_db("/tmp/q\x1b[2J.db") == "/tmp/q\\x1b[2J.db");
  for (const char* db : {"postgresql://u:secret@h/q", "host=h password=secret", "postgresql://h/q?password=secret"})
    BOOST_TEST(display_db(db).find("secret") == std::string::npos, db);
}

BOOST_AUTO_TEST_CASE(connect_timeout_is_added_when_absent_and_kept_when_given) {
  BOOST_TEST(with_connect_timeout("postgresql://h/q") == "postgresql://h/q?connect_timeout=5");
  BOOST_TEST(with_connect_timeout("postgresql://h/q?sslmode=disable") == "postgresql://h/q?sslmode=disable&connect_timeout=5");
  BOOST_TEST(with_connect_timeout("postgresql://h/q?connect_timeout=2") == "postgresql://h/q?connect_timeout=2");
  BOOST_TEST(with_connect_timeout("host=h dbname=q") == "host=h dbname=q connect_timeout=5");
  BOOST_TEST(with_connect_timeout("host=h connect_timeout=2") == "host=h connect_timeout=2");
  BOOST_TEST(with_connect_timeout("/tmp/q.db") == "/tmp/q.db");
  BOOST_TEST(connect_timeout_of("postgresql://h/q?a=1&connect_timeout=2").value_or(-1) == 2);
  BOOST_TEST(connect_timeout_of("host=h connect_timeout = 7").value_or(-1) == 7);
  BOOST_TEST(!connect_timeout_of("host=h").has_value());
}

BOOST_AUTO_TEST_CASE(implausible_paths_are_refused_and_nothing_is_created) {
  const auto dir = std::filesystem::temp_directory_path() / ("queuectl-dbloc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto refused = [](const std::string& db) {
    try {
      resolve_db(db);
    } catch (const error& e) {
      return e.kind() == error_kind::invalid_input && e.message().find("secret") == std::string::npos;
    }
    return false;
  };
  BOOST_TEST(refused("/dev/null"));
  const auto fifo = dir / "fifo";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  BOOST_TEST(refused(fifo.string()));
  BOOST_TEST(refused(dir.string()));
  BOOST_TEST(refused(dir.string() + "/"));
  BOOST_TEST(refused("foo=1 bar=2"));
  BOOST_TEST(refused("mysql://u:secret@h/q"));
  BOOST_TEST(refused("file:" + (dir / "q.db").string()));
  BOOST_TEST(refused((dir / "a\nb.db").string()));
  BOOST_TEST(resolve_db("host=127.0.0.1 port=1 dbname=q password=secret") == "host=127.0.0.1 port=1 dbname=q password=secret");
  BOOST_TEST(resolve_db((dir / "sub" / "q.db").string()) == (dir / "sub" / "q.db").string());
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries += e.path().filename() != "fifo" && e.path().filename() != "sub";
  BOOST_TEST(entries == 0u);  // no file named after a refused value
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
