/* The floor for a CLI enqueue: a C program that opens the SQLite file (WAL, busy timeout)
 * and inserts one row with a bound parameter. `raw_insert DB init` creates the table. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  sqlite3* db;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) return 1;
  sqlite3_busy_timeout(db, 10000);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", 0, 0, 0);
  if (argc > 2 && strcmp(argv[2], "init") == 0)
    return sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS jobs(id TEXT PRIMARY KEY, command TEXT, created_at INTEGER)", 0, 0, 0);
  sqlite3_stmt* st;
  if (sqlite3_prepare_v2(db, "INSERT INTO jobs(id, command, created_at) VALUES(?1, ?2, ?3)", -1, &st, 0)) return 1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char id[64];
  snprintf(id, sizeof id, "%lx-%lx", (long)ts.tv_sec, (long)ts.tv_nsec);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, "{\"command\":\"true\"}", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (long long)ts.tv_sec * 1000);
  int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : 1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  puts(id);
  return rc;
}
