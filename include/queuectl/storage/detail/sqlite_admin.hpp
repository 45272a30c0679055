/// @file
/// @brief Config entries and worker registrations of sqlite_storage.
/// Member definitions of sqlite_storage, included by "queuectl/storage/sqlite_storage.hpp".
#pragma once

#include "queuectl/storage/sqlite_storage.hpp"

namespace queuectl {

inline std::optional<std::string> sqlite_storage::get_config(std::string_view key) {
  return locked([&]() -> std::optional<std::string> {
    const std::string k(key);
    std::string v;
    soci::indicator ind = soci::i_null;
    sql_ << detail::sql::config_get, soci::use(k), soci::into(v, ind);
    if (!sql_.got_data() || ind == soci::i_null) return std::nullopt;
    return v;
  });
}

inline void sqlite_storage::set_config(std::string_view key, std::string_view value) {
  locked([&] {
    const std::string k(key), v(value);
    sql_ << detail::sql::config_put,
        soci::use(k), soci::use(v);
  });
}

inline void sqlite_storage::set_config_entries(const std::map<std::string, std::string>& entries) {
  if (entries.empty()) return;
  locked([&] {
    write_txn tx(*this);
    for (const auto& [key, value] : entries)
      sql_ << detail::sql::config_put,
          soci::use(key), soci::use(value);
    tx.commit();
  });
}

inline std::map<std::string, std::string> sqlite_storage::config_entries() {
  return locked([&] {
    std::map<std::string, std::string> out;
    soci::rowset<soci::row> rows = (sql_.prepare << detail::sql::config_all);
    for (const auto& r : rows) out.emplace(detail::row_text(r, 0), detail::row_text(r, 1));
    return out;
  });
}

inline void sqlite_storage::reset_config() {
  locked([&] { sql_ << detail::sql::config_clear; });
}

inline void sqlite_storage::upsert_worker(const worker_info& w) {
  locked([&] {
    const long long pid = w.pid, started = to_ms(w.started_at), beat = to_ms(w.heartbeat_at);
    const int slots = w.slots;
    const std::string executors = w.executors ? detail::names_to_json(*w.executors) : std::string();
    soci::indicator executors_ind = w.executors ? soci::i_ok : soci::i_null;
    sql_ << detail::sql::worker_put,
        soci::use(w.id), soci::use(w.hostname), soci::use(pid), soci::use(slots), soci::use(started), soci::use(beat),
        soci::use(executors, executors_ind);
  });
}

inline void sqlite_storage::remove_worker(std::string_view id) {
  locked([&] {
    const std::string i(id);
    sql_ << detail::sql::worker_delete, soci::use(i);
  });
}

inline std::vector<worker_info> sqlite_storage::workers() {
  return locked([&] {
    std::vector<worker_info> out;
    soci::rowset<soci::row> rows =
        (sql_.prepare << detail::sql::workers_all);
    for (const auto& r : rows) out.push_back(detail::worker_from_row(r, from_ms));
    return out;
  });
}

}  // namespace queuectl
