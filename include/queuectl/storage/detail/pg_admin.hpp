/// @file
/// @brief Config entries, worker registrations and wake-up notifications of postgresql_storage.
/// Member definitions of postgresql_storage, included by "queuectl/storage/postgresql_storage.hpp".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "queuectl/storage/detail/soci_sql.hpp"
#include "queuectl/storage/postgresql_storage.hpp"

namespace queuectl {

inline std::optional<std::string> postgresql_storage::get_config(std::string_view key) {
  return run([&](leased& l) -> std::optional<std::string> {
    const std::string k(key);
    std::string v;
    soci::indicator ind = soci::i_null;
    l.sql << detail::sql::config_get, soci::use(k), soci::into(v, ind);
    if (!l.sql.got_data() || ind == soci::i_null) return std::nullopt;
    return v;
  });
}

inline void postgresql_storage::set_config(std::string_view key, std::string_view value) {
  run([&](leased& l) {
    const std::string k(key), v(value);
    l.sql << detail::sql::config_put,
        soci::use(k), soci::use(v);
  });
}

inline void postgresql_storage::set_config_entries(const std::map<std::string, std::string>& entries) {
  if (entries.empty()) return;
  run([&](leased& l) {
    detail::pg_txn tx(l.sql);
    for (const auto& [key, value] : entries)
      l.sql << detail::sql::config_put,
          soci::use(key), soci::use(value);
    tx.commit();
  });
}

inline std::map<std::string, std::string> postgresql_storage::config_entries() {
  return run([&](leased& l) {
    std::map<std::string, std::string> out;
    detail::select_rows(
        l.sql, detail::sql::config_all, [](soci::statement&) {},
        [&](const soci::row& r) { out.emplace(detail::row_text(r, 0), detail::row_text(r, 1)); });
    return out;
  });
}

inline void postgresql_storage::reset_config() {
  run([&](leased& l) { l.sql << detail::sql::config_clear; });
}

inline void postgresql_storage::upsert_worker(const worker_info& w) {
  run([&](leased& l) {
    const long long pid = w.pid, started = db(w.started_at), beat = db(w.heartbeat_at);
    const int slots = w.slots;
    const std::string executors = w.executors ? detail::names_to_json(*w.executors) : std::string();
    soci::indicator executors_ind = w.executors ? soci::i_ok : soci::i_null;
    l.sql << detail::sql::worker_put,
        soci::use(w.id), soci::use(w.hostname), soci::use(pid), soci::use(slots), soci::use(started), soci::use(beat),
        soci::use(executors, executors_ind);
  });
}

inline void postgresql_storage::remove_worker(std::string_view id) {
  run([&](leased& l) {
    const std::string i(id);
    l.sql << detail::sql::worker_delete, soci::use(i);
  });
}

inline std::vector<worker_info> postgresql_storage::workers() {
  return run([&](leased& l) {
    std::vector<worker_info> out;
    detail::select_rows(
        l.sql, detail::sql::workers_all,
        [](soci::statement&) {},
        [&](const soci::row& r) {
          out.push_back(detail::worker_from_row(r, [this](long long ms) { return local(ms); }));
        });
    return out;
  });
}

inline void postgresql_storage::send_notify(soci::session& sql) {
  std::string ignored;
  sql << "SELECT CAST(pg_notify(:ch, '') AS TEXT)", soci::use(opts_.channel), soci::into(ignored);
}

}  // namespace queuectl
